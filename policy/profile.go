package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Profile is an organisation's encryption requirements, the parameters the
// rules read as input.profile.
type Profile struct {
	Name string `json:"name"`
	// AllowedMethods are the acceptable bucket default and object methods
	// (snapshot Method* values other than "none"); "sse-c" (objects only)
	// accepts objects encrypted with customer-provided keys (SSE-023,
	// SSE-024), which no built-in profile does.
	AllowedMethods []string `json:"allowed_methods"`
	// RequireCustomerCMK requires a customer master key, not the service
	// key alias/acs/oss.
	RequireCustomerCMK bool `json:"require_customer_cmk"`
	// AllowedCMKIDs lists the acceptable CMKs by key id, alias (alias/x) or
	// ARN; empty = any. Entries and the keys buckets and objects use are
	// compared after resolution (see the package doc): an alias entry
	// matches only when the snapshot records what it resolves to, so pass
	// this list to the scan (scan.Config.ExtraKeyRefs).
	AllowedCMKIDs []string `json:"allowed_cmk_ids"`
	// AllowedAlgorithms are the acceptable ciphers: AES256, SM4.
	AllowedAlgorithms []string `json:"allowed_algorithms"`
	// MaxRotationDays is the longest automatic rotation interval accepted
	// for a customer CMK in use (SSE-015), in days; a CMK without
	// automatic rotation fails whatever the value. 0 means
	// DefaultMaxRotationDays (Load and SelectProfile fill it in); a config file must give 1
	// to 3650.
	MaxRotationDays int `json:"max_rotation_days"`
	// SeverityOverrides changes the severity of rules by id.
	SeverityOverrides map[string]findings.Severity `json:"severity_overrides,omitempty"`
}

// DefaultMaxRotationDays is the default of max_rotation_days: a year, the
// interval AWS KMS rotates customer keys at and the longest Alibaba Cloud
// KMS offers by default in its console; NIST SP 800-57 Part 1 puts the
// originator-usage period of a symmetric data-encryption key at up to two
// years, so a year leaves room.
const DefaultMaxRotationDays = 365

// maxRotationDaysLimit bounds max_rotation_days: ten years is no rotation.
const maxRotationDaysLimit = 3650

// DefaultProfile accepts any encryption method with AES-256 or SM4, and
// customer CMKs rotated at least yearly. It matches default_profile in
// policies/lib.rego.
func DefaultProfile() Profile {
	return Profile{
		Name:              "default",
		AllowedMethods:    []string{snapshot.MethodOSSManaged, snapshot.MethodKMSDefault, snapshot.MethodKMSCMK, snapshot.MethodOther},
		AllowedCMKIDs:     []string{},
		AllowedAlgorithms: []string{"AES256", "SM4"},
		MaxRotationDays:   DefaultMaxRotationDays,
	}
}

// BuiltinProfiles returns the named profiles every config can use (and
// extend): "default"; "cis-service-key" (CIS Alibaba Cloud 5.8: KMS, the
// service key or a CMK, AES-256); "byok" (CIS Alibaba Cloud 5.9: KMS with a
// customer CMK, AES-256).
func BuiltinProfiles() map[string]Profile {
	def := DefaultProfile()
	svc := DefaultProfile()
	svc.Name = "cis-service-key"
	svc.AllowedMethods = []string{snapshot.MethodKMSDefault, snapshot.MethodKMSCMK}
	svc.AllowedAlgorithms = []string{"AES256"}
	byok := DefaultProfile()
	byok.Name = "byok"
	byok.AllowedMethods = []string{snapshot.MethodKMSCMK}
	byok.RequireCustomerCMK = true
	byok.AllowedAlgorithms = []string{"AES256"}
	return map[string]Profile{def.Name: def, svc.Name: svc, byok.Name: byok}
}

func (p Profile) clone() Profile {
	q := p
	q.AllowedMethods = slices.Clone(p.AllowedMethods)
	q.AllowedCMKIDs = slices.Clone(p.AllowedCMKIDs)
	q.AllowedAlgorithms = slices.Clone(p.AllowedAlgorithms)
	if p.SeverityOverrides != nil {
		q.SeverityOverrides = make(map[string]findings.Severity, len(p.SeverityOverrides))
		for k, v := range p.SeverityOverrides {
			q.SeverityOverrides[k] = v
		}
	}
	if q.AllowedCMKIDs == nil {
		q.AllowedCMKIDs = []string{}
	}
	if q.MaxRotationDays == 0 {
		q.MaxRotationDays = DefaultMaxRotationDays
	}
	return q
}

// Validate checks the parameters' values.
func (p *Profile) Validate() error {
	var errs []error
	if len(p.AllowedMethods) == 0 {
		errs = append(errs, errors.New("allowed_methods: must list at least one method"))
	}
	for i, m := range p.AllowedMethods {
		if !slices.Contains(validMethods, m) {
			errs = append(errs, fmt.Errorf("allowed_methods[%d]: unknown method %q (want one of %s)", i, m, strings.Join(validMethods, ", ")))
		}
	}
	if len(p.AllowedAlgorithms) == 0 {
		errs = append(errs, errors.New("allowed_algorithms: must list at least one algorithm"))
	}
	for i, a := range p.AllowedAlgorithms {
		if !slices.Contains(validAlgorithms, a) {
			errs = append(errs, fmt.Errorf("allowed_algorithms[%d]: unknown algorithm %q (want AES256 or SM4)", i, a))
		}
	}
	for i, id := range p.AllowedCMKIDs {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, fmt.Errorf("allowed_cmk_ids[%d]: empty key id", i))
		}
	}
	if p.MaxRotationDays < 0 || p.MaxRotationDays > maxRotationDaysLimit {
		errs = append(errs, fmt.Errorf("max_rotation_days: %d is out of range (want a whole number of days from 1 to %d; default %d)", p.MaxRotationDays, maxRotationDaysLimit, DefaultMaxRotationDays))
	}
	for id, s := range p.SeverityOverrides {
		if !s.Valid() {
			errs = append(errs, fmt.Errorf("severity.%s: invalid severity", id))
		}
	}
	return errors.Join(errs...)
}

var (
	// MethodSSEC is valid for objects only (no bucket rule is SSE-C): a
	// profile listing it allows SSE-C objects (SSE-023).
	validMethods    = []string{snapshot.MethodOSSManaged, snapshot.MethodKMSDefault, snapshot.MethodKMSCMK, snapshot.MethodSSEC, snapshot.MethodOther}
	validAlgorithms = []string{"AES256", "SM4"}
)

// normAlgorithm accepts AES-256, aes256, sm4...
func normAlgorithm(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

// Config is a parsed policy config file.
type Config struct {
	// Default is the profile in force when no name is selected: the
	// top-level "profile" (inline parameters or the name of a profile), or
	// DefaultProfile.
	Default Profile
	// Profiles are the named profiles: the built-in ones plus the file's.
	Profiles map[string]Profile
	Source   string
}

// LoadConfig reads a config file (see ParseConfig).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(b, path)
}

// ParseConfig parses a policy config file:
//
//	profile: byok              # the profile in force: a name, or inline parameters
//	profiles:                  # named organisation profiles (select with --profile NAME)
//	  payments:
//	    extends: byok          # optional: start from another profile (default: "default")
//	    allowed_methods: [kms-cmk]             # oss-managed, kms-default, kms-cmk, other
//	    require_customer_cmk: true             # not the service key alias/acs/oss
//	    allowed_cmk_ids: [1234abcd-..., alias/payments, acs:kms:cn-hangzhou:123:key/...]   # ids, aliases or ARNs; empty: any
//	    allowed_algorithms: [AES256]           # AES256, SM4
//	    max_rotation_days: 365                 # longest automatic rotation interval of a customer CMK (1..3650)
//	    severity: {SSE-002: high}              # severity overrides by rule id
//	    description: free text
//
// Parsing is strict: an unknown field or a bad value is an error naming the
// file, line and field. Rule ids in severity overrides are checked by Load.
func ParseConfig(data []byte, source string) (*Config, error) {
	if source == "" {
		source = "config"
	}
	cfg := &Config{Default: DefaultProfile(), Profiles: BuiltinProfiles(), Source: source}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with profile and profiles", source, root.Line)
	}
	var profileNode *yaml.Node
	raw := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "profile":
			profileNode = v
		case "profiles":
			if v.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s:%d: profiles: want a mapping of name to parameters", source, v.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				if name == "" {
					return nil, fmt.Errorf("%s:%d: profiles: empty profile name", source, v.Content[j].Line)
				}
				if _, dup := raw[name]; dup {
					return nil, fmt.Errorf("%s:%d: profiles.%s: defined twice", source, v.Content[j].Line, name)
				}
				raw[name] = v.Content[j+1]
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown field %q (want profile or profiles)", source, k.Line, k.Value)
		}
	}
	// Resolve named profiles (with extends) in a stable order.
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	resolving := map[string]bool{}
	var resolve func(name string) (Profile, error)
	resolve = func(name string) (Profile, error) {
		n, ok := raw[name]
		if !ok {
			p, ok := cfg.Profiles[name]
			if !ok {
				return Profile{}, fmt.Errorf("unknown profile %q", name)
			}
			return p, nil
		}
		if resolving[name] {
			return Profile{}, fmt.Errorf("profiles.%s: extends cycle", name)
		}
		resolving[name] = true
		defer delete(resolving, name)
		p, err := parseProfile(n, source, "profiles."+name, resolve)
		if err != nil {
			return Profile{}, err
		}
		p.Name = name
		return p, nil
	}
	resolved := map[string]Profile{}
	for _, n := range names {
		p, err := resolve(n)
		if err != nil {
			return nil, err
		}
		resolved[n] = p
	}
	for n, p := range resolved {
		cfg.Profiles[n] = p
	}
	if profileNode != nil {
		switch profileNode.Kind {
		case yaml.ScalarNode:
			p, ok := cfg.Profiles[profileNode.Value]
			if !ok {
				return nil, fmt.Errorf("%s:%d: profile: unknown profile %q (known: %s)", source, profileNode.Line, profileNode.Value, strings.Join(cfg.ProfileNames(), ", "))
			}
			cfg.Default = p.clone()
		case yaml.MappingNode:
			p, err := parseProfile(profileNode, source, "profile", func(name string) (Profile, error) {
				p, ok := cfg.Profiles[name]
				if !ok {
					return Profile{}, fmt.Errorf("unknown profile %q", name)
				}
				return p, nil
			})
			if err != nil {
				return nil, err
			}
			if p.Name == "" {
				p.Name = "config"
			}
			cfg.Default = p
		default:
			return nil, fmt.Errorf("%s:%d: profile: want a profile name or a mapping of parameters", source, profileNode.Line)
		}
	}
	return cfg, nil
}

// parseProfile reads one profile mapping, strictly.
func parseProfile(n *yaml.Node, source, path string, resolve func(string) (Profile, error)) (Profile, error) {
	if n.Kind != yaml.MappingNode {
		return Profile{}, fmt.Errorf("%s:%d: %s: want a mapping of parameters", source, n.Line, path)
	}
	where := func(line int, field string) string { return fmt.Sprintf("%s:%d: %s.%s", source, line, path, field) }
	base := DefaultProfile()
	// extends first, wherever it is written.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "extends" {
			v := n.Content[i+1]
			p, err := resolve(v.Value)
			if err != nil {
				return Profile{}, fmt.Errorf("%s: %w", where(v.Line, "extends"), err)
			}
			base = p.clone()
		}
	}
	p := base.clone()
	p.Name = ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "extends", "description":
			var s string
			err = v.Decode(&s)
		case "name":
			err = v.Decode(&p.Name)
		case "allowed_methods":
			var ms []string
			if err = decodeList(v, &ms); err == nil {
				p.AllowedMethods = ms
			}
		case "require_customer_cmk":
			err = v.Decode(&p.RequireCustomerCMK)
		case "allowed_cmk_ids":
			var ids []string
			if err = decodeList(v, &ids); err == nil {
				p.AllowedCMKIDs = ids
			}
		case "max_rotation_days":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
				err = fmt.Errorf("%q: want a whole number of days from 1 to %d (default %d)", v.Value, maxRotationDaysLimit, DefaultMaxRotationDays)
			} else if err = v.Decode(&p.MaxRotationDays); err == nil && p.MaxRotationDays < 1 {
				err = fmt.Errorf("%d: want a whole number of days from 1 to %d (default %d)", p.MaxRotationDays, maxRotationDaysLimit, DefaultMaxRotationDays)
			}
		case "allowed_algorithms":
			var as []string
			if err = decodeList(v, &as); err == nil {
				for j := range as {
					as[j] = normAlgorithm(as[j])
				}
				p.AllowedAlgorithms = as
			}
		case "severity", "severity_overrides":
			var m map[string]string
			if err = v.Decode(&m); err == nil {
				if p.SeverityOverrides == nil {
					p.SeverityOverrides = map[string]findings.Severity{}
				}
				for id, s := range m {
					sev, perr := findings.ParseSeverity(s)
					if perr != nil {
						return Profile{}, fmt.Errorf("%s.%s: %w", where(v.Line, k.Value), id, perr)
					}
					p.SeverityOverrides[id] = sev
				}
			}
		default:
			return Profile{}, fmt.Errorf("%s: unknown field (want allowed_methods, require_customer_cmk, allowed_cmk_ids, allowed_algorithms, max_rotation_days, severity, extends, description)", where(k.Line, k.Value))
		}
		if err != nil {
			return Profile{}, fmt.Errorf("%s: %w", where(v.Line, k.Value), err)
		}
	}
	if err := p.Validate(); err != nil {
		return Profile{}, fmt.Errorf("%s:%d: %s: %w", source, n.Line, path, err)
	}
	return p, nil
}

func decodeList(v *yaml.Node, out *[]string) error {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		*out = []string{}
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return errors.New("want a list")
	}
	if err := v.Decode(out); err != nil {
		return err
	}
	if *out == nil {
		*out = []string{}
	}
	return nil
}

// SelectProfile returns the named profile, or Default for "".
func (c *Config) SelectProfile(name string) (Profile, error) {
	if name == "" {
		return c.Default.clone(), nil
	}
	p, ok := c.Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("%s: unknown profile %q (known: %s)", c.Source, name, strings.Join(c.ProfileNames(), ", "))
	}
	return p.clone(), nil
}

// ProfileNames lists the profile names, sorted.
func (c *Config) ProfileNames() []string {
	ns := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
