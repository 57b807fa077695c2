package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/steps"
)

// targetSpec is one target of a --targets file, as written. Credentials
// are named by environment variable (the *_env fields): the file never
// holds a secret, so it can be checked in and shared.
type targetSpec struct {
	// Name is the target's column in the matrix and its sub-directory of
	// --out.
	Name string `yaml:"name"`
	// Embedded names the embedded reference in a dialect (oss or s3),
	// started on loopback for this target alone.
	Embedded string `yaml:"embedded"`
	// Faults are deliberate defects of the embedded reference (a demo of
	// what the matrix shows when a store deviates).
	Faults []string `yaml:"faults"`

	Endpoint              string   `yaml:"endpoint"`
	Dialect               string   `yaml:"dialect"`
	Region                string   `yaml:"region"`
	AccessKeyIDEnv        string   `yaml:"access_key_id_env"`
	AccessKeySecretEnv    string   `yaml:"access_key_secret_env"`
	KMSEndpoint           string   `yaml:"kms_endpoint"`
	KMSDialect            string   `yaml:"kms_dialect"`
	KMSAccessKeyIDEnv     string   `yaml:"kms_access_key_id_env"`
	KMSAccessKeySecretEnv string   `yaml:"kms_access_key_secret_env"`
	KMSKeys               []string `yaml:"kms_keys"`
	KMSDisabledKey        string   `yaml:"kms_disabled_key"`
	S3DefaultKeyAlias     string   `yaml:"s3_default_key_alias"`
}

// confTarget is a validated target of a --targets file.
type confTarget struct {
	targetSpec
	line    int
	dialect client.Dialect
	// kmsDialect is pipeline.KMSAWS or pipeline.KMSAlibaba.
	kmsDialect string
	faults     embedded.Faults
}

// isEmbedded says the target is the embedded reference.
func (t confTarget) isEmbedded() bool { return t.Embedded != "" }

// describe names the target for people: what it is, not its secrets.
func (t confTarget) describe() string {
	if t.isEmbedded() {
		s := fmt.Sprintf("the embedded reference (%s)", t.dialect)
		if len(t.Faults) > 0 {
			s += " with the fault " + strings.Join(t.Faults, ", ")
		}
		return s
	}
	return fmt.Sprintf("%s (%s)", t.Endpoint, t.dialect)
}

// targetFields are the keys a target may have, from targetSpec's tags.
var targetFields = func() []string {
	var out []string
	rt := reflect.TypeFor[targetSpec]()
	for i := range rt.NumField() {
		out = append(out, rt.Field(i).Tag.Get("yaml"))
	}
	return out
}()

// secretFields are keys people write when they mean to put a secret in
// the file, with the field that names its variable instead.
var secretFields = map[string]string{
	"access_key_id": "access_key_id_env", "access_key_secret": "access_key_secret_env",
	"secret_access_key": "access_key_secret_env", "secret": "access_key_secret_env", "password": "access_key_secret_env",
	"kms_access_key_id": "kms_access_key_id_env", "kms_access_key_secret": "kms_access_key_secret_env",
	"kms_secret_access_key": "kms_access_key_secret_env", "session_token": "",
}

var (
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// targetsError is a problem of a --targets file: it names the file, the
// line and the target, and says how to fix it.
func targetsError(path string, line int, name, format string, args ...any) error {
	where := path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", path, line)
	}
	if name != "" {
		where += fmt.Sprintf(": target %q", name)
	}
	return fmt.Errorf("--targets %s: %s", where, fmt.Sprintf(format, args...))
}

// loadTargets reads and strictly validates a --targets file: unknown or
// repeated fields, duplicate names, a target without endpoint or dialect,
// a secret written into the file, fields that do not go together.
func loadTargets(path string) ([]confTarget, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--targets: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, targetsError(path, 0, "", "not YAML: %v", err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	const shape = "the file is a mapping with one key, targets, holding a list of targets (see docs/conformance-targets.yaml)"
	if root.Kind != yaml.MappingNode {
		return nil, targetsError(path, root.Line, "", "%s", shape)
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "targets" {
			return nil, targetsError(path, k.Line, "", "unknown field %q: %s", k.Value, shape)
		}
		if list != nil {
			return nil, targetsError(path, k.Line, "", "targets is given twice (also on line %d): keep one list", list.Line)
		}
		list = v
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		line := root.Line
		if list != nil {
			line = list.Line
		}
		return nil, targetsError(path, line, "", "no targets: %s", shape)
	}
	var out []confTarget
	names := map[string]int{}
	for i, item := range list.Content {
		t, err := parseTarget(path, i, item)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(t.Name)
		if prev, ok := names[key]; ok {
			return nil, targetsError(path, t.line, t.Name, "the name is already used by the target on line %d (names are compared ignoring case: each names a directory of --out); rename one", prev)
		}
		names[key] = t.line
		out = append(out, t)
	}
	return out, nil
}

// parseTarget decodes and validates the i-th target.
func parseTarget(path string, i int, item *yaml.Node) (confTarget, error) {
	t := confTarget{line: item.Line}
	if item.Kind != yaml.MappingNode {
		return t, targetsError(path, item.Line, "", "target %d is not a mapping: give name and either embedded, or endpoint, dialect and region", i+1)
	}
	// The name first, so every other error can name the target.
	seen := map[string]int{}
	for j := 0; j+1 < len(item.Content); j += 2 {
		if k, v := item.Content[j], item.Content[j+1]; k.Value == "name" && v.Kind == yaml.ScalarNode {
			t.Name = v.Value
		}
	}
	label := t.Name
	if label == "" {
		label = fmt.Sprintf("#%d", i+1)
	}
	for j := 0; j+1 < len(item.Content); j += 2 {
		k := item.Content[j]
		if prev, ok := seen[k.Value]; ok {
			return t, targetsError(path, k.Line, label, "field %s is given twice (also on line %d): keep one", k.Value, prev)
		}
		seen[k.Value] = k.Line
		if env, ok := secretFields[k.Value]; ok {
			fix := "remove it"
			if env != "" {
				fix = fmt.Sprintf("write %s: VARIABLE, the name of the environment variable that holds it", env)
			}
			// The value is not repeated: it may be a secret.
			return t, targetsError(path, k.Line, label, "field %s would put a credential in the file, which never holds secrets: %s", k.Value, fix)
		}
		if !slices.Contains(targetFields, k.Value) {
			return t, targetsError(path, k.Line, label, "unknown field %q; the fields are %s", k.Value, strings.Join(targetFields, ", "))
		}
	}
	if err := item.Decode(&t.targetSpec); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return t, targetsError(path, item.Line, label, "%s (strings, and lists of strings for faults and kms_keys)", strings.Join(te.Errors, "; "))
		}
		return t, targetsError(path, item.Line, label, "%v", err)
	}
	if err := t.validate(); err != nil {
		return t, targetsError(path, item.Line, label, "%v", err)
	}
	return t, nil
}

// validate checks one target's fields go together.
func (t *confTarget) validate() error {
	if t.Name == "" {
		return errors.New("no name: add name: (letters, digits, '.', '_' and '-'; it names the matrix column and the sub-directory of --out)")
	}
	if !targetNameRE.MatchString(t.Name) {
		return errors.New("the name is not usable as a directory: use 1 to 63 letters, digits, '.', '_' and '-', starting with a letter or digit")
	}
	if n := strings.ToLower(t.Name); n == "matrix.html" || n == "matrix.md" {
		return errors.New("the name is the matrix's own file in --out: choose another name")
	}
	kd := strings.ToLower(strings.TrimSpace(t.KMSDialect))
	if t.isEmbedded() {
		t.dialect = client.Dialect(strings.ToLower(strings.TrimSpace(t.Embedded)))
		if t.dialect != client.OSS && t.dialect != client.S3 {
			return fmt.Errorf("embedded: %q: use oss or s3 (the embedded reference in that dialect)", t.Embedded)
		}
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"endpoint", t.Endpoint != ""}, {"dialect", t.Dialect != ""}, {"region", t.Region != ""},
			{"access_key_id_env", t.AccessKeyIDEnv != ""}, {"access_key_secret_env", t.AccessKeySecretEnv != ""},
			{"kms_endpoint", t.KMSEndpoint != ""}, {"kms_access_key_id_env", t.KMSAccessKeyIDEnv != ""}, {"kms_access_key_secret_env", t.KMSAccessKeySecretEnv != ""},
			{"kms_keys", len(t.KMSKeys) > 0}, {"kms_disabled_key", t.KMSDisabledKey != ""}, {"s3_default_key_alias", t.S3DefaultKeyAlias != ""},
		} {
			if f.set {
				return fmt.Errorf("%s does not go with embedded: the embedded reference brings its own endpoint, region, credentials and KMS; remove %s, or remove embedded to test an endpoint", f.field, f.field)
			}
		}
		fs, err := embedded.ParseFaults(strings.Join(t.Faults, ","))
		if err != nil {
			return fmt.Errorf("faults: %v", err)
		}
		t.faults = fs
	} else {
		if len(t.Faults) > 0 {
			return errors.New("faults are deliberate defects of the embedded reference: remove faults, or add embedded: oss|s3")
		}
		if t.Endpoint == "" {
			return errors.New("no endpoint: add endpoint: URL (e.g. https://s3.example.com), or embedded: oss|s3 for the embedded reference")
		}
		if err := checkEndpointURL(t.Endpoint); err != nil {
			return fmt.Errorf("endpoint: %v", err)
		}
		t.dialect = client.Dialect(strings.ToLower(strings.TrimSpace(t.Dialect)))
		switch {
		case t.Dialect == "":
			return errors.New("no dialect: add dialect: oss or s3 (the API the endpoint speaks)")
		case t.dialect != client.OSS && t.dialect != client.S3:
			return fmt.Errorf("dialect %q: use oss or s3", t.Dialect)
		case t.Region == "":
			return errors.New("no region: add region: (e.g. cn-hangzhou, us-east-1), the region requests are signed for")
		}
		if t.KMSEndpoint != "" {
			if err := checkEndpointURL(t.KMSEndpoint); err != nil {
				return fmt.Errorf("kms_endpoint: %v", err)
			}
		} else if t.KMSAccessKeyIDEnv != "" || t.KMSAccessKeySecretEnv != "" {
			return errors.New("kms_access_key_id_env and kms_access_key_secret_env go with kms_endpoint: add kms_endpoint, or remove them")
		}
		if err := envPair("access_key_id_env", t.AccessKeyIDEnv, "access_key_secret_env", t.AccessKeySecretEnv); err != nil {
			return err
		}
		if err := envPair("kms_access_key_id_env", t.KMSAccessKeyIDEnv, "kms_access_key_secret_env", t.KMSAccessKeySecretEnv); err != nil {
			return err
		}
		if len(t.KMSKeys) > steps.MaxKeys {
			return fmt.Errorf("kms_keys names %d keys: give 1 or %d", len(t.KMSKeys), steps.MaxKeys)
		}
		if t.S3DefaultKeyAlias != "" && t.dialect != client.S3 {
			return errors.New("s3_default_key_alias is the alias of an S3 store's managed key: remove it, or use dialect: s3")
		}
	}
	switch kd {
	case "":
		t.kmsDialect = pipeline.DefaultKMSDialect(t.dialect)
	case pipeline.KMSAlibaba:
		t.kmsDialect = kd
	case pipeline.KMSAWS:
		if t.dialect != client.S3 {
			return errors.New("kms_dialect aws goes with the s3 dialect: OSS encrypts with Alibaba Cloud KMS keys; use kms_dialect: alibaba (the default for oss)")
		}
		t.kmsDialect = kd
	default:
		return fmt.Errorf("kms_dialect %q: use aws (AWS KMS, the default for s3) or alibaba (Alibaba Cloud KMS, the default for oss)", t.KMSDialect)
	}
	return nil
}

// checkEndpointURL accepts http(s)://host[:port] or a bare host[:port].
func checkEndpointURL(s string) error {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: use http(s)://host[:port]", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: the scheme is http or https", s)
	case u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "":
		return fmt.Errorf("%q: give only http(s)://host[:port], without user, path or query", u.Redacted())
	}
	return nil
}

// envPair checks a pair of *_env fields: both or neither, each a variable
// name. A value that is not a name is not repeated (it may be a secret).
func envPair(idField, id, secretField, secret string) error {
	if (id == "") != (secret == "") {
		return fmt.Errorf("%s and %s go together: give both, or neither for the dialect's usual variables", idField, secretField)
	}
	for _, f := range [][2]string{{idField, id}, {secretField, secret}} {
		if f[1] != "" && !envNameRE.MatchString(f[1]) {
			return fmt.Errorf("%s is not an environment variable name (letters, digits and '_'): the file names the variable that holds a credential, never the credential itself", f[0])
		}
	}
	return nil
}

// stepsOptions builds the suite's options for an endpoint target, with
// its credentials read from the variables it names (or the dialect's
// usual ones). A dry run reads no credentials.
func (t confTarget) stepsOptions(getenv func(string) string, dry bool) (steps.Options, error) {
	var opts steps.Options
	var ak, sk string
	if !dry {
		var err error
		if ak, sk, err = readCreds(getenv, t.AccessKeyIDEnv, t.AccessKeySecretEnv, t.dialect); err != nil {
			return opts, err
		}
	}
	opts.Targets = map[client.Dialect]client.Config{t.dialect: {Dialect: t.dialect, Endpoint: t.Endpoint, Region: t.Region, AccessKeyID: ak, AccessKeySecret: sk}}
	if t.KMSEndpoint != "" {
		kc := &client.KMSConfig{Endpoint: t.KMSEndpoint, Region: t.Region}
		switch {
		case dry:
		case t.KMSAccessKeyIDEnv != "":
			id, secret, err := namedCreds(getenv, "kms_", t.KMSAccessKeyIDEnv, t.KMSAccessKeySecretEnv)
			if err != nil {
				return opts, err
			}
			kc.AccessKeyID, kc.AccessKeySecret = id, secret
		case t.kmsDialect == pipeline.KMSAWS:
			// The S3 target's own credentials, as with --kms-endpoint.
			kc.AccessKeyID, kc.AccessKeySecret = ak, sk
		default:
			kc.AccessKeyID, kc.AccessKeySecret = pipeline.KMSCredentials(getenv)
			if kc.AccessKeyID == "" || kc.AccessKeySecret == "" {
				return opts, errors.New("kms_endpoint (alibaba) needs credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or name other variables with kms_access_key_id_env and kms_access_key_secret_env")
			}
		}
		if t.kmsDialect == pipeline.KMSAWS {
			opts.AWSKMS = kc
		} else {
			opts.KMS = kc
		}
	}
	opts.Keys, opts.DisabledKey, opts.S3DefaultKeyAlias = t.KMSKeys, t.KMSDisabledKey, t.S3DefaultKeyAlias
	return opts, nil
}

// readCreds reads a target's storage credentials: from the variables it
// names, else from the dialect's usual ones.
func readCreds(getenv func(string) string, idEnv, secretEnv string, d client.Dialect) (string, string, error) {
	if idEnv != "" {
		return namedCreds(getenv, "", idEnv, secretEnv)
	}
	ak, sk := pipeline.Credentials(getenv, d)
	if ak == "" || sk == "" {
		usual := "OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET"
		if d == client.S3 {
			usual = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
		}
		return "", "", fmt.Errorf("no credentials: set %s, or name other variables with access_key_id_env and access_key_secret_env", usual)
	}
	return ak, sk, nil
}

// namedCreds reads the two variables a target names.
func namedCreds(getenv func(string) string, prefix, idEnv, secretEnv string) (string, string, error) {
	id, secret := getenv(idEnv), getenv(secretEnv)
	var unset []string
	if id == "" {
		unset = append(unset, fmt.Sprintf("%s (%saccess_key_id_env)", idEnv, prefix))
	}
	if secret == "" {
		unset = append(unset, fmt.Sprintf("%s (%saccess_key_secret_env)", secretEnv, prefix))
	}
	if len(unset) > 0 {
		return "", "", fmt.Errorf("the environment variable %s is not set: export it, or name another variable in the file", strings.Join(unset, " and "))
	}
	return id, secret, nil
}
