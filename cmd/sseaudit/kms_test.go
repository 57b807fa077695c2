package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

// kmsTestServer starts a kmshttp endpoint on 127.0.0.1 backed by the real
// in-memory emulator, and sets the CLI's credential variables for it.
func kmsTestServer(t *testing.T) {
	t.Helper()
	cred := struct{ AccessKeyID, AccessKeySecret string }{"LTAICLITEST", "cli-test-secret"}
	srv, err := embedded.StartKMS(cred.AccessKeyID, cred.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv(envAccessKeyID, cred.AccessKeyID)
	t.Setenv(envAccessKeySecret, cred.AccessKeySecret)
	t.Setenv(envKMSEndpoint, srv.Endpoint)
}

// runKMS executes `sseaudit kms ARGS...` through the root command and
// returns its stdout and error.
func runKMS(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(env{getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut})
	root.SetArgs(append([]string{"kms"}, args...))
	err := root.Execute()
	return out.String(), err
}

func mustRunKMS(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runKMS(t, args...)
	if err != nil {
		t.Fatalf("sseaudit kms %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestKMSCommands(t *testing.T) {
	kmsTestServer(t)

	keyID := strings.TrimSpace(mustRunKMS(t, "create-key", "--description", "cli key", "--rotation-interval", "30d"))
	if keyID == "" || strings.ContainsAny(keyID, " \n") {
		t.Fatalf("create-key printed %q", keyID)
	}

	var md map[string]string
	if err := json.Unmarshal([]byte(mustRunKMS(t, "describe-key", keyID)), &md); err != nil {
		t.Fatal(err)
	}
	if md["KeyId"] != keyID || md["Description"] != "cli key" || md["KeyState"] != "Enabled" ||
		md["AutomaticRotation"] != "Enabled" || md["RotationInterval"] != "2592000s" {
		t.Fatalf("describe-key: %v", md)
	}

	// More keys than one page, so that list-keys has to follow pages.
	want := []string{keyID}
	for range listKeysPageSize {
		want = append(want, strings.TrimSpace(mustRunKMS(t, "create-key")))
	}
	listed := strings.Fields(mustRunKMS(t, "list-keys"))
	for _, id := range want {
		if !strings.Contains(" "+strings.Join(listed, " ")+" ", " "+id+" ") {
			t.Fatalf("list-keys lacks %s (%d listed)", id, len(listed))
		}
	}
	var asJSON []map[string]string
	if err := json.Unmarshal([]byte(mustRunKMS(t, "list-keys", "--json")), &asJSON); err != nil || len(asJSON) != len(listed) || asJSON[0]["KeyArn"] == "" {
		t.Fatalf("list-keys --json: %d entries, %v", len(asJSON), err)
	}

	mustRunKMS(t, "disable-key", keyID)
	if _, err := runKMS(t, "rotate-key", keyID); err == nil || err.Error() != "sseaudit kms: Rejected.Disabled: The request was rejected because the key state is Disabled." {
		t.Fatalf("rotate-key on a disabled key: %v", err)
	}
	mustRunKMS(t, "enable-key", keyID)
	version := strings.TrimSpace(mustRunKMS(t, "rotate-key", keyID))
	if err := json.Unmarshal([]byte(mustRunKMS(t, "describe-key", keyID)), &md); err != nil || md["PrimaryKeyVersion"] != version {
		t.Fatalf("rotate-key printed %q, primary version is %q", version, md["PrimaryKeyVersion"])
	}

	if out := mustRunKMS(t, "create-alias", "alias/cli", keyID); out != "" {
		t.Fatalf("create-alias printed %q", out)
	}
	if err := json.Unmarshal([]byte(mustRunKMS(t, "describe-key", "alias/cli")), &md); err != nil || md["KeyId"] != keyID {
		t.Fatalf("describe-key alias/cli: %v %v", md, err)
	}

	mustRunKMS(t, "schedule-key-deletion", keyID, "--days", "7")
	if err := json.Unmarshal([]byte(mustRunKMS(t, "describe-key", keyID)), &md); err != nil || md["KeyState"] != "PendingDeletion" {
		t.Fatalf("after schedule-key-deletion: %v %v", md, err)
	}
	mustRunKMS(t, "cancel-key-deletion", keyID)
	if err := json.Unmarshal([]byte(mustRunKMS(t, "describe-key", keyID)), &md); err != nil || md["KeyState"] == "PendingDeletion" {
		t.Fatalf("after cancel-key-deletion: %v %v", md, err)
	}
}

func TestKMSCommandErrors(t *testing.T) {
	kmsTestServer(t)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string // error text, or its prefix when ending in "…"
	}{
		{name: "unknown key", args: []string{"describe-key", "no-such-key"}, want: "sseaudit kms: Forbidden.KeyNotFound: The specified Key is not found."},
		{name: "bad days", args: []string{"schedule-key-deletion", "alias/acs/oss", "--days", "3"}, want: "sseaudit kms: InvalidParameter: …"},
		{name: "missing days", args: []string{"schedule-key-deletion", "k"}, want: `required flag(s) "days" not set`},
		{name: "wrong secret", args: []string{"list-keys"}, env: map[string]string{envAccessKeySecret: "wrong"},
			want: "sseaudit kms: SignatureDoesNotMatch: Specified signature is not matched with our calculation."},
		{name: "unknown access key", args: []string{"list-keys"}, env: map[string]string{envAccessKeyID: "LTAINOBODY"},
			want: "sseaudit kms: InvalidAccessKeyId.NotFound: Specified access key is not found."},
		{name: "no credentials", args: []string{"list-keys"}, env: map[string]string{envAccessKeyID: ""},
			want: "sseaudit kms: missing credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (`sseaudit serve` prints the root credentials on its first start)"},
		{name: "bad endpoint", args: []string{"--endpoint", "ftp://127.0.0.1:1", "list-keys"}, want: "sseaudit kms: kmsclient: endpoint …"},
		{name: "nothing listening", args: []string{"--endpoint", "http://127.0.0.1:1", "list-keys"}, want: "sseaudit kms: request to http://127.0.0.1:1 failed: …"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, err := runKMS(t, tc.args...)
			if err == nil {
				t.Fatalf("succeeded with %q", out)
			}
			if out != "" {
				t.Fatalf("printed %q on failure", out)
			}
			if p, ok := strings.CutSuffix(tc.want, "…"); ok && !strings.HasPrefix(err.Error(), p) || !ok && err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestKMSEndpointDefault(t *testing.T) {
	t.Setenv(envKMSEndpoint, "")
	if got := newKMSCommand().PersistentFlags().Lookup("endpoint").DefValue; got != defaultKMSEndpoint {
		t.Fatalf("default endpoint %q", got)
	}
	t.Setenv(envKMSEndpoint, "http://127.0.0.1:19001")
	if got := newKMSCommand().PersistentFlags().Lookup("endpoint").DefValue; got != "http://127.0.0.1:19001" {
		t.Fatalf("endpoint from env %q", got)
	}
}
