package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
)

func TestParseConfig(t *testing.T) {
	src := `# organisation profiles
profile: payments
profiles:
  payments:
    extends: byok
    description: PCI scope
    allowed_cmk_ids: [` + cmk + `]
    severity: {SSE-002: high}
  china:
    allowed_algorithms: [aes-256, SM4]
    allowed_methods: [kms-default, kms-cmk]
    max_rotation_days: 90
`
	cfg, err := ParseConfig([]byte(src), "sseaudit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.SelectProfile("")
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Name: "payments", AllowedMethods: []string{"kms-cmk"}, RequireCustomerCMK: true,
		AllowedCMKIDs: []string{cmk}, AllowedAlgorithms: []string{"AES256"}, MaxRotationDays: DefaultMaxRotationDays,
		SeverityOverrides: map[string]findings.Severity{"SSE-002": findings.SeverityHigh},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("default profile\n got %+v\nwant %+v", p, want)
	}
	china, err := cfg.SelectProfile("china")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(china.AllowedAlgorithms, []string{"AES256", "SM4"}) || china.RequireCustomerCMK || len(china.AllowedCMKIDs) != 0 || china.MaxRotationDays != 90 {
		t.Errorf("china %+v", china)
	}
	if _, err := cfg.SelectProfile("byok"); err != nil {
		t.Errorf("built-in profile: %v", err)
	}
	if _, err := cfg.SelectProfile("nope"); err == nil || !strings.Contains(err.Error(), `unknown profile "nope" (known: byok, china, cis-service-key, default, payments)`) {
		t.Errorf("unknown profile: %v", err)
	}

	inline, err := ParseConfig([]byte("profile:\n  require_customer_cmk: true\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := inline.SelectProfile(""); p.Name != "config" || !p.RequireCustomerCMK || !reflect.DeepEqual(p.AllowedMethods, DefaultProfile().AllowedMethods) {
		t.Errorf("inline %+v", p)
	}
	empty, err := ParseConfig(nil, "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := empty.SelectProfile(""); !reflect.DeepEqual(p, DefaultProfile()) {
		t.Errorf("empty config %+v", p)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	if _, err := LoadConfig(path); err != nil {
		t.Error(err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := map[string]string{
		"profile:\n  allowd_methods: [kms-cmk]\n":                 `c.yaml:2: profile.allowd_methods: unknown field`,
		"profiles:\n  p:\n    allowed_methods: [kms]\n":           `allowed_methods[0]: unknown method "kms"`,
		"profiles:\n  p:\n    allowed_algorithms: [DES]\n":        `allowed_algorithms[0]: unknown algorithm "DES"`,
		"profiles:\n  p:\n    allowed_methods: []\n":              `allowed_methods: must list at least one method`,
		"profiles:\n  p:\n    allowed_methods: [none]\n":          `unknown method "none"`,
		"profiles:\n  p:\n    require_customer_cmk: maybe\n":      `c.yaml:3: profiles.p.require_customer_cmk`,
		"profiles:\n  p:\n    severity: {SSE-001: huge}\n":        `profiles.p.severity.SSE-001: unknown severity "huge"`,
		"profiles:\n  p:\n    extends: q\n  q:\n    extends: p\n": `extends cycle`,
		"profiles:\n  p:\n    extends: nope\n":                    `c.yaml:3: profiles.p.extends: unknown profile "nope"`,
		"profile: nope\n":                                         `c.yaml:1: profile: unknown profile "nope"`,
		"rules: []\n":                                             `c.yaml:1: unknown field "rules"`,
		"profiles:\n  p:\n    allowed_cmk_ids: abc\n":             `profiles.p.allowed_cmk_ids: want a list`,
		"profile: [a\n": `c.yaml: yaml:`,
		"profiles:\n  p:\n    max_rotation_days: 0\n":                                `c.yaml:3: profiles.p.max_rotation_days: 0: want a whole number of days from 1 to 3650`,
		"profiles:\n  p:\n    max_rotation_days: -5\n":                               `profiles.p.max_rotation_days: -5: want a whole number of days`,
		"profiles:\n  p:\n    max_rotation_days: 4000\n":                             `max_rotation_days: 4000 is out of range`,
		"profiles:\n  p:\n    max_rotation_days: 1.5\n":                              `c.yaml:3: profiles.p.max_rotation_days`,
		"profiles:\n  p:\n    max_rotation_days: year\n":                             `c.yaml:3: profiles.p.max_rotation_days`,
		"profiles:\n  p: {allowed_methods: [kms-cmk]}\n  p: {allowed_methods: []}\n": `defined twice`,
	}
	for src, want := range cases {
		_, err := ParseConfig([]byte(src), "c.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

func TestExampleFiles(t *testing.T) {
	cfg, err := LoadConfig("testdata/sseaudit.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.SelectProfile("")
	if p.Name != "payments" || !p.RequireCustomerCMK || len(p.AllowedCMKIDs) != 3 || p.SeverityOverrides["SSE-002"] != findings.SeverityHigh || p.MaxRotationDays != 365 {
		t.Errorf("payments %+v", p)
	}
	if _, err := Load(t.Context(), Options{Profile: &p}); err != nil {
		t.Error(err)
	}
	ws, err := findings.LoadWaivers("testdata/waivers.example.yaml", findings.WaiverOptions{Now: func() time.Time { return time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil || len(ws) != 2 || ws[0].ExpiresDate() != "2026-09-30" || ws[1].ExpiresDate() != "2027-06-30" {
		t.Errorf("waivers %+v %v", ws, err)
	}
	if _, err := Load(t.Context(), Options{Profile: &p, Waivers: ws}); err != nil {
		t.Errorf("the example waivers do not load with the rules: %v", err)
	}
}

// TestProfileAllowsSSEC: "sse-c" is a method a profile may allow (the
// built-in profiles do not).
func TestProfileAllowsSSEC(t *testing.T) {
	cfg, err := ParseConfig([]byte("profiles:\n  ssec:\n    allowed_methods: [kms-cmk, sse-c]\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Profiles["ssec"].AllowedMethods; !slices.Equal(got, []string{"kms-cmk", "sse-c"}) {
		t.Fatalf("allowed_methods %v", got)
	}
	for name, p := range cfg.Profiles {
		if name != "ssec" && slices.Contains(p.AllowedMethods, "sse-c") {
			t.Errorf("built-in profile %s allows sse-c", name)
		}
	}
}
