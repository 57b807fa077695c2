package kms

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreateKeyMetadata(t *testing.T) {
	te := newTestEnv(t, Config{Account: "5678901234567890"})
	md, err := te.api.CreateKey(te.ctx, CreateKeyInput{Description: "d", EnableAutomaticRotation: true, RotationInterval: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	want := KeyMetadata{
		KeyId: md.KeyId, Arn: "acs:kms:cn-hangzhou:5678901234567890:key/" + md.KeyId, Description: "d",
		KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT", KeyState: "Enabled", Creator: "5678901234567890",
		CreationDate: "2026-03-01T08:00:00Z", PrimaryKeyVersion: md.PrimaryKeyVersion, AutomaticRotation: "Enabled",
		RotationInterval: "2592000s", LastRotationDate: "2026-03-01T08:00:00Z", NextRotationDate: "2026-03-31T08:00:00Z",
		Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE", DeletionProtection: "Disabled",
	}
	if md != want {
		t.Fatalf("CreateKey metadata\n got %+v\nwant %+v", md, want)
	}
	if !guidRE.MatchString(md.KeyId) || !guidRE.MatchString(md.PrimaryKeyVersion) || md.KeyId == md.PrimaryKeyVersion {
		t.Fatalf("ids are not distinct lowercase GUIDs: %q %q", md.KeyId, md.PrimaryKeyVersion)
	}
	if got := te.describe(t, md.KeyId); got != md {
		t.Fatalf("DescribeKey differs from CreateKey:\n%+v\n%+v", got, md)
	}
	plain, _ := te.api.CreateKey(te.ctx, CreateKeyInput{})
	if plain.AutomaticRotation != "Disabled" || plain.RotationInterval != "" || plain.NextRotationDate != "" || plain.DeleteDate != "" {
		t.Fatalf("defaults: %+v", plain)
	}
}

func TestCreateKeyRefusesUnsupported(t *testing.T) {
	te := newTestEnv(t, Config{})
	cases := []struct {
		in    CreateKeyInput
		param string
		code  string
	}{
		{CreateKeyInput{KeySpec: "Aliyun_SM4"}, "KeySpec", CodeInvalidParameter},
		{CreateKeyInput{KeySpec: "RSA_2048"}, "KeySpec", CodeInvalidParameter},
		{CreateKeyInput{KeyUsage: "SIGN/VERIFY"}, "KeyUsage", CodeInvalidParameter},
		{CreateKeyInput{Origin: "EXTERNAL"}, "Origin", CodeInvalidParameter},
		{CreateKeyInput{ProtectionLevel: "HSM"}, "ProtectionLevel", CodeInvalidParameter},
		{CreateKeyInput{Description: strings.Repeat("x", MaxDescriptionLen+1)}, "Description", CodeInvalidParameter},
		{CreateKeyInput{EnableAutomaticRotation: true}, "RotationInterval", CodeMissingParameter},
		{CreateKeyInput{EnableAutomaticRotation: true, RotationInterval: "6d"}, "RotationInterval", CodeInvalidParameter},
		{CreateKeyInput{RotationInterval: "soon"}, "RotationInterval", CodeInvalidParameter},
	}
	for _, c := range cases {
		_, err := te.api.CreateKey(te.ctx, c.in)
		wantErr(t, fmt.Sprintf("CreateKey(%+v)", c.in), err, c.code, 400)
		if !strings.Contains(err.Error(), `"`+c.param+`"`) {
			t.Fatalf("error does not name %s: %v", c.param, err)
		}
	}
	if l, _ := te.api.ListKeys(te.ctx, Page{}); l.TotalCount != 0 {
		t.Fatalf("refused CreateKey calls created %d keys", l.TotalCount)
	}
	// Explicit supported values are accepted.
	if _, err := te.api.CreateKey(te.ctx, CreateKeyInput{KeySpec: KeySpecAES256, KeyUsage: KeyUsageEncrypt, Origin: OriginAliyunKMS, ProtectionLevel: ProtectionSoftware}); err != nil {
		t.Fatal(err)
	}
}

func TestManualRotation(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	v1 := te.describe(t, key).PrimaryKeyVersion
	blob1 := te.encrypt(t, key, []byte("one"), map[string]string{"n": "1"})
	if blob1.KeyVersionId != v1 {
		t.Fatalf("blob names %s, primary is %s", blob1.KeyVersionId, v1)
	}
	te.clk.Advance(time.Hour)
	kv2, err := te.api.CreateKeyVersion(te.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	blob2 := te.encrypt(t, key, []byte("two"), nil)
	te.clk.Advance(time.Hour)
	kv3, err := te.api.CreateKeyVersion(te.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	md := te.describe(t, key)
	if md.PrimaryKeyVersion != kv3.KeyVersionId || kv2.KeyVersionId == v1 || kv3.KeyVersionId == kv2.KeyVersionId {
		t.Fatalf("versions v1=%s v2=%s v3=%s primary=%s", v1, kv2.KeyVersionId, kv3.KeyVersionId, md.PrimaryKeyVersion)
	}
	if md.LastRotationDate != "2026-03-01T10:00:00Z" || kv3.CreationDate != "2026-03-01T10:00:00Z" {
		t.Fatalf("LastRotationDate %s, version CreationDate %s", md.LastRotationDate, kv3.CreationDate)
	}
	gk, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key})
	if err != nil || gk.KeyVersionId != kv3.KeyVersionId {
		t.Fatalf("new data key under %s (%v), want %s", gk.KeyVersionId, err, kv3.KeyVersionId)
	}
	for _, c := range []struct {
		blob    EncryptOutput
		ctx     map[string]string
		pt, ver string
	}{{blob1, map[string]string{"n": "1"}, "one", v1}, {blob2, nil, "two", kv2.KeyVersionId}} {
		d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: c.blob.CiphertextBlob, EncryptionContext: c.ctx})
		if err != nil || string(d.Plaintext) != c.pt || d.KeyVersionId != c.ver || d.KeyId != key {
			t.Fatalf("decrypt old blob: %+v %v, want %q under %s", d, err, c.pt, c.ver)
		}
	}
	l, err := te.api.ListKeyVersions(te.ctx, key, Page{})
	if err != nil || l.TotalCount != 3 || l.KeyVersions[0].KeyVersionId != v1 || l.KeyVersions[2].KeyVersionId != kv3.KeyVersionId {
		t.Fatalf("ListKeyVersions %+v %v", l, err)
	}
	d, err := te.api.DescribeKeyVersion(te.ctx, key, kv2.KeyVersionId)
	if err != nil || d != kv2 {
		t.Fatalf("DescribeKeyVersion %+v %v, want %+v", d, err, kv2)
	}
	_, err = te.api.DescribeKeyVersion(te.ctx, key, "00000000-0000-4000-8000-000000000000")
	wantErr(t, "unknown version", err, CodeKeyVersionNotFound, 404)
}

func TestAutomaticRotation(t *testing.T) {
	te := newTestEnv(t, Config{})
	md, err := te.api.CreateKey(te.ctx, CreateKeyInput{EnableAutomaticRotation: true, RotationInterval: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	key, v1 := md.KeyId, md.PrimaryKeyVersion
	blob1 := te.encrypt(t, key, []byte("one"), nil)

	te.clk.Advance(7*day - time.Second)
	if got := te.describe(t, key); got.PrimaryKeyVersion != v1 || got.NextRotationDate != "2026-03-08T08:00:00Z" {
		t.Fatalf("rotated early: %+v", got)
	}
	te.clk.Advance(time.Second) // exactly NextRotationDate
	blob2 := te.encrypt(t, key, []byte("two"), nil)
	md2 := te.describe(t, key)
	if md2.PrimaryKeyVersion == v1 || blob2.KeyVersionId != md2.PrimaryKeyVersion {
		t.Fatalf("no rotation at NextRotationDate: %+v, blob under %s", md2, blob2.KeyVersionId)
	}
	if md2.LastRotationDate != "2026-03-08T08:00:00Z" || md2.NextRotationDate != "2026-03-15T08:00:00Z" {
		t.Fatalf("after rotation: Last %s Next %s", md2.LastRotationDate, md2.NextRotationDate)
	}

	te.clk.Advance(10 * day) // well past: one catch-up rotation at the touch
	gk, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key})
	if err != nil {
		t.Fatal(err)
	}
	md3 := te.describe(t, key)
	if gk.KeyVersionId != md3.PrimaryKeyVersion || md3.PrimaryKeyVersion == md2.PrimaryKeyVersion {
		t.Fatalf("second rotation missing: %+v", md3)
	}
	if md3.LastRotationDate != "2026-03-18T08:00:00Z" || md3.NextRotationDate != "2026-03-25T08:00:00Z" {
		t.Fatalf("after catch-up: Last %s Next %s", md3.LastRotationDate, md3.NextRotationDate)
	}
	if l, _ := te.api.ListKeyVersions(te.ctx, key, Page{}); l.TotalCount != 3 {
		t.Fatalf("%d versions, want 3", l.TotalCount)
	}
	for _, b := range []EncryptOutput{blob1, blob2} {
		d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: b.CiphertextBlob})
		if err != nil || d.KeyVersionId != b.KeyVersionId {
			t.Fatalf("old blob under %s: %+v %v", b.KeyVersionId, d, err)
		}
	}

	// Disabled: rotation is Suspended and does not happen.
	if err := te.api.DisableKey(te.ctx, key); err != nil {
		t.Fatal(err)
	}
	te.clk.Advance(30 * day)
	sus := te.describe(t, key)
	if sus.AutomaticRotation != RotationSuspended || sus.PrimaryKeyVersion != md3.PrimaryKeyVersion {
		t.Fatalf("disabled key: %+v", sus)
	}
	if err := te.api.EnableKey(te.ctx, key); err != nil {
		t.Fatal(err)
	}
	re := te.describe(t, key) // first touch after re-enabling: overdue rotation runs
	if re.AutomaticRotation != RotationEnabled || re.PrimaryKeyVersion == md3.PrimaryKeyVersion {
		t.Fatalf("re-enabled key did not catch up: %+v", re)
	}

	// Disabling the policy clears NextRotationDate; no more rotation.
	if err := te.api.UpdateRotationPolicy(te.ctx, key, false, ""); err != nil {
		t.Fatal(err)
	}
	te.clk.Advance(400 * day)
	off := te.describe(t, key)
	if off.AutomaticRotation != RotationDisabled || off.NextRotationDate != "" || off.RotationInterval != "" || off.PrimaryKeyVersion != re.PrimaryKeyVersion {
		t.Fatalf("policy disabled: %+v", off)
	}
	// Enabling sets NextRotationDate = now + interval.
	if err := te.api.UpdateRotationPolicy(te.ctx, key, true, "604800s"); err != nil {
		t.Fatal(err)
	}
	on := te.describe(t, key)
	if want := te.clk.Now().Add(7 * day).Format(TimeFormat); on.NextRotationDate != want || on.RotationInterval != "604800s" {
		t.Fatalf("policy enabled: Next %s (want %s) Interval %s", on.NextRotationDate, want, on.RotationInterval)
	}
}

func TestRotationIntervalBounds(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration // 0 = invalid
	}{
		{"7d", 7 * day}, {"730d", 730 * day}, {"604800s", 7 * day}, {"63072000s", 730 * day},
		{"168h", 7 * day}, {"10080m", 7 * day}, {"365d", 365 * day},
		{"6d", 0}, {"731d", 0}, {"604799s", 0}, {"63072001s", 0}, {"167h", 0},
		{"", 0}, {"7", 0}, {"d", 0}, {"7D", 0}, {"-7d", 0}, {"7.5d", 0}, {"+7d", 0}, {" 7d", 0},
		{"7w", 0}, {"999999999999d", 0}, {"9999999999999999999s", 0},
	}
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	for _, c := range cases {
		got, err := ParseRotationInterval(c.in)
		if c.want == 0 {
			wantErr(t, fmt.Sprintf("ParseRotationInterval(%q)", c.in), err, CodeInvalidParameter, 400)
		} else if err != nil || got != c.want {
			t.Fatalf("ParseRotationInterval(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		err = te.api.UpdateRotationPolicy(te.ctx, key, true, c.in)
		switch {
		case c.in == "":
			wantErr(t, "UpdateRotationPolicy without interval", err, CodeMissingParameter, 400)
		case c.want == 0:
			wantErr(t, fmt.Sprintf("UpdateRotationPolicy(%q)", c.in), err, CodeInvalidParameter, 400)
		default:
			wantErr(t, fmt.Sprintf("UpdateRotationPolicy(%q)", c.in), err, "", 0)
			if got := te.describe(t, key).RotationInterval; got != fmt.Sprintf("%ds", int64(c.want/time.Second)) {
				t.Fatalf("RotationInterval after %q: %s", c.in, got)
			}
		}
	}
}

func TestDeletionWindow(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	blob := te.encrypt(t, key, []byte("x"), nil)
	if err := te.api.CreateAlias(te.ctx, "alias/doomed", key); err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{0, 6, 367, -1} {
		wantErr(t, fmt.Sprintf("ScheduleKeyDeletion(%d)", days), te.api.ScheduleKeyDeletion(te.ctx, key, days), CodeInvalidParameter, 400)
	}
	if err := te.api.ScheduleKeyDeletion(te.ctx, key, 7); err != nil {
		t.Fatal(err)
	}
	md := te.describe(t, key)
	if md.KeyState != StatePendingDeletion || md.DeleteDate != "2026-03-08T08:00:00Z" {
		t.Fatalf("scheduled: %+v", md)
	}
	te.clk.Advance(7*day - time.Second)
	if md := te.describe(t, key); md.KeyState != StatePendingDeletion {
		t.Fatalf("deleted early: %+v", md)
	}
	if _, err := te.api.DescribeKey(te.ctx, "alias/doomed"); err != nil {
		t.Fatalf("alias gone early: %v", err)
	}
	te.clk.Advance(time.Second)
	_, err := te.api.DescribeKey(te.ctx, key)
	wantErr(t, "DescribeKey after DeleteDate", err, CodeKeyNotFound, 404)
	_, err = te.api.DescribeKey(te.ctx, "alias/doomed")
	wantErr(t, "alias of a deleted key", err, CodeAliasNotFound, 404)
	_, err = te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob.CiphertextBlob})
	wantErr(t, "Decrypt after deletion", err, CodeKeyNotFound, 404)
	wantErr(t, "CancelKeyDeletion after deletion", te.api.CancelKeyDeletion(te.ctx, key), CodeKeyNotFound, 404)
	if l, _ := te.api.ListKeys(te.ctx, Page{}); l.TotalCount != 0 {
		t.Fatalf("ListKeys still has %d keys", l.TotalCount)
	}
	if l, _ := te.api.ListAliases(te.ctx, Page{}); l.TotalCount != 0 {
		t.Fatalf("ListAliases still has %+v", l.Aliases)
	}
	// Creating the alias again works: the name was freed.
	other := te.createKey(t)
	if err := te.api.CreateAlias(te.ctx, "alias/doomed", other); err != nil {
		t.Fatal(err)
	}
}

func TestCancelKeyDeletion(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	blob := te.encrypt(t, key, []byte("kept"), nil)
	if err := te.api.DisableKey(te.ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := te.api.ScheduleKeyDeletion(te.ctx, key, 7); err != nil {
		t.Fatal(err)
	}
	te.clk.Advance(6 * day)
	if err := te.api.CancelKeyDeletion(te.ctx, key); err != nil {
		t.Fatal(err)
	}
	te.clk.Advance(30 * day)
	md := te.describe(t, key)
	if md.KeyState != StateEnabled || md.DeleteDate != "" {
		t.Fatalf("after cancel: %+v", md)
	}
	d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: blob.CiphertextBlob})
	if err != nil || string(d.Plaintext) != "kept" {
		t.Fatalf("decrypt after cancel: %v", err)
	}
}

func TestGenerateDataKeySizes(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	cases := []struct {
		spec string
		n    int
		want int    // bytes
		code string // error code; "" = success
		name string // parameter named in the error
	}{
		{"", 0, 32, "", ""},
		{DataKeySpecAES256, 0, 32, "", ""},
		{DataKeySpecAES128, 0, 16, "", ""},
		{DataKeySpecAES128, 64, 64, "", ""}, // NumberOfBytes wins
		{"AES_512", 5, 5, "", ""},           // KeySpec ignored when NumberOfBytes is set
		{"", 1, 1, "", ""},
		{"", 1024, 1024, "", ""},
		{"", 1025, 0, CodeInvalidParameter, "NumberOfBytes"},
		{DataKeySpecAES256, -1, 0, CodeInvalidParameter, "NumberOfBytes"},
		{"AES_512", 0, 0, CodeInvalidParameter, "KeySpec"},
		{"aes_256", 0, 0, CodeInvalidParameter, "KeySpec"},
	}
	for _, c := range cases {
		in := GenerateDataKeyInput{KeyId: key, KeySpec: c.spec, NumberOfBytes: c.n, EncryptionContext: map[string]string{"obj": "a"}}
		out, err := te.api.GenerateDataKey(te.ctx, in)
		what := fmt.Sprintf("GenerateDataKey(KeySpec=%q, NumberOfBytes=%d)", c.spec, c.n)
		if c.code != "" {
			wantErr(t, what, err, c.code, 400)
			if !strings.Contains(err.Error(), `"`+c.name+`"`) {
				t.Fatalf("%s: error does not name %s: %v", what, c.name, err)
			}
			continue
		}
		if err != nil || len(out.Plaintext) != c.want {
			t.Fatalf("%s: %d bytes, %v; want %d", what, len(out.Plaintext), err, c.want)
		}
		d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: in.EncryptionContext})
		if err != nil || !bytes.Equal(d.Plaintext, out.Plaintext) {
			t.Fatalf("%s: round trip failed: %v", what, err)
		}
		wp, err := te.api.GenerateDataKeyWithoutPlaintext(te.ctx, in)
		if err != nil || wp.Plaintext != nil || wp.KeyId != key {
			t.Fatalf("%s WithoutPlaintext: %+v %v", what, wp, err)
		}
		d, err = te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: wp.CiphertextBlob, EncryptionContext: in.EncryptionContext})
		if err != nil || len(d.Plaintext) != c.want {
			t.Fatalf("%s WithoutPlaintext: decrypts to %d bytes, %v", what, len(d.Plaintext), err)
		}
	}
	// Two data keys differ.
	a, _ := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key})
	b, _ := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: key})
	if bytes.Equal(a.Plaintext, b.Plaintext) || bytes.Equal(a.CiphertextBlob, b.CiphertextBlob) {
		t.Fatal("two GenerateDataKey calls returned the same key or blob")
	}
	// Layout: 32-byte data key with 36-character ids is 171 bytes.
	if len(a.CiphertextBlob) != 171 || string(a.CiphertextBlob[:5]) != "KEB1\x01" {
		t.Fatalf("blob is %d bytes starting %q", len(a.CiphertextBlob), a.CiphertextBlob[:5])
	}
	_, err := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{})
	wantErr(t, "GenerateDataKey without KeyId", err, CodeMissingParameter, 400)
}

func TestEncryptLimits(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	max := bytes.Repeat([]byte{0xA5}, MaxEncryptPlaintext)
	out := te.encrypt(t, key, max, nil)
	d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: out.CiphertextBlob})
	if err != nil || !bytes.Equal(d.Plaintext, max) {
		t.Fatalf("6 KiB round trip: %v", err)
	}
	_, err = te.api.Encrypt(te.ctx, EncryptInput{KeyId: key, Plaintext: append(max, 0)})
	wantErr(t, "Encrypt 6 KiB + 1", err, CodeInvalidParameter, 400)
	_, err = te.api.Encrypt(te.ctx, EncryptInput{KeyId: key})
	wantErr(t, "Encrypt empty", err, CodeMissingParameter, 400)
	_, err = te.api.Decrypt(te.ctx, DecryptInput{})
	wantErr(t, "Decrypt empty", err, CodeMissingParameter, 400)
}

func TestReEncrypt(t *testing.T) {
	te := newTestEnv(t, Config{})
	a, b := te.createKey(t), te.createKey(t)
	src := map[string]string{"bucket": "b1", "object": "o1"}
	dst := map[string]string{"bucket": "b2", "object": "o2"}
	in := te.encrypt(t, a, []byte("secret"), src)
	out, err := te.api.ReEncrypt(te.ctx, ReEncryptInput{CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: src, DestinationKeyId: b, DestinationEncryptionContext: dst})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyId != b || out.KeyVersionId != te.describe(t, b).PrimaryKeyVersion || bytes.Contains(out.CiphertextBlob, []byte("secret")) {
		t.Fatalf("ReEncrypt output %+v", out)
	}
	d, err := te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: dst})
	if err != nil || string(d.Plaintext) != "secret" || d.KeyId != b {
		t.Fatalf("decrypt re-encrypted blob: %+v %v", d, err)
	}
	_, err = te.api.Decrypt(te.ctx, DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: src})
	wantErr(t, "re-encrypted blob with the source context", err, CodeInvalidCiphertext, 400)
	_, err = te.api.ReEncrypt(te.ctx, ReEncryptInput{CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: dst, DestinationKeyId: b})
	wantErr(t, "ReEncrypt with a wrong source context", err, CodeInvalidCiphertext, 400)
	_, err = te.api.ReEncrypt(te.ctx, ReEncryptInput{CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: src})
	wantErr(t, "ReEncrypt without destination", err, CodeMissingParameter, 400)
	if err := te.api.DisableKey(te.ctx, b); err != nil {
		t.Fatal(err)
	}
	_, err = te.api.ReEncrypt(te.ctx, ReEncryptInput{CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: src, DestinationKeyId: b})
	wantErr(t, "ReEncrypt to a disabled key", err, CodeDisabled, 409)
	// Same key, rotated: ReEncrypt moves a blob to the new primary version.
	if _, err := te.api.CreateKeyVersion(te.ctx, a); err != nil {
		t.Fatal(err)
	}
	moved, err := te.api.ReEncrypt(te.ctx, ReEncryptInput{CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: src, DestinationKeyId: "alias/acs/oss"})
	if err != nil || moved.KeyId == a || moved.KeyId == b {
		t.Fatalf("ReEncrypt to the service key: %+v %v", moved, err)
	}
}

func TestAliases(t *testing.T) {
	te := newTestEnv(t, Config{})
	a, b := te.createKey(t), te.createKey(t)
	if err := te.api.CreateAlias(te.ctx, "alias/app", a); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateAlias twice", te.api.CreateAlias(te.ctx, "alias/app", b), CodeAliasExists, 400)
	for _, bad := range []string{"app", "alias/", "alias/a b", "alias/ü", "Alias/app", "alias/" + strings.Repeat("x", 256), "alias/acs", "alias/acs/", "alias/acs/oss2"} {
		wantErr(t, fmt.Sprintf("CreateAlias(%q)", bad), te.api.CreateAlias(te.ctx, bad, a), CodeInvalidParameter, 400)
	}
	wantErr(t, "CreateAlias without name", te.api.CreateAlias(te.ctx, "", a), CodeMissingParameter, 400)
	wantErr(t, "CreateAlias unknown key", te.api.CreateAlias(te.ctx, "alias/x", "00000000-0000-4000-8000-000000000000"), CodeKeyNotFound, 404)
	for _, good := range []string{"alias/" + strings.Repeat("x", 255), "alias/a_b-c/d", "alias/acsx"} {
		if err := te.api.CreateAlias(te.ctx, good, a); err != nil {
			t.Fatalf("CreateAlias(%q): %v", good, err)
		}
	}
	// Aliases resolve at call time.
	g1, _ := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: "alias/app"})
	if err := te.api.UpdateAlias(te.ctx, "alias/app", b); err != nil {
		t.Fatal(err)
	}
	g2, _ := te.api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: "alias/app"})
	if g1.KeyId != a || g2.KeyId != b {
		t.Fatalf("alias resolved to %s then %s, want %s then %s", g1.KeyId, g2.KeyId, a, b)
	}
	wantErr(t, "UpdateAlias unknown alias", te.api.UpdateAlias(te.ctx, "alias/none", b), CodeAliasNotFound, 404)
	byB, _ := te.api.ListAliasesByKeyID(te.ctx, b, Page{})
	if byB.TotalCount != 1 || byB.Aliases[0].AliasName != "alias/app" || byB.Aliases[0].KeyId != b {
		t.Fatalf("ListAliasesByKeyID(b) = %+v", byB)
	}
	all, _ := te.api.ListAliases(te.ctx, Page{PageSize: 2, PageNumber: 2})
	if all.TotalCount != 4 || len(all.Aliases) != 2 || all.Aliases[0].AliasName != "alias/app" || all.PageNumber != 2 || all.PageSize != 2 {
		t.Fatalf("ListAliases page 2: %+v", all)
	}
	if err := te.api.DeleteAlias(te.ctx, "alias/app"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteAlias twice", te.api.DeleteAlias(te.ctx, "alias/app"), CodeAliasNotFound, 404)
	_, err := te.api.DescribeKey(te.ctx, "alias/app")
	wantErr(t, "deleted alias", err, CodeAliasNotFound, 404)
	if _, err := te.api.DescribeKey(te.ctx, b); err != nil {
		t.Fatalf("DeleteAlias affected the key: %v", err)
	}
}

func TestKeyReferences(t *testing.T) {
	te := newTestEnv(t, Config{})
	key := te.createKey(t)
	if err := te.api.CreateAlias(te.ctx, "alias/ref", key); err != nil {
		t.Fatal(err)
	}
	arn := te.describe(t, key).Arn
	cases := []struct {
		ref    string
		code   string
		status int
	}{
		{key, "", 0},
		{"alias/ref", "", 0},
		{arn, "", 0},
		{"acs:kms:cn-hangzhou:" + DefaultAccount + ":alias/ref", "", 0},
		{"acs:kms:cn-hangzhou:999:key/" + key, CodeKeyNotFound, 404},
		{"acs:kms:cn-beijing:" + DefaultAccount + ":key/" + key, CodeKeyNotFound, 404},
		{"acs:kms:cn-hangzhou:" + DefaultAccount + ":alias/none", CodeAliasNotFound, 404},
		{"acs:kms:cn-hangzhou:" + DefaultAccount + ":secret/" + key, CodeInvalidParameter, 400},
		{"acs:kms:cn-hangzhou", CodeInvalidParameter, 400},
		{"acs:ecs:cn-hangzhou:" + DefaultAccount + ":key/" + key, CodeInvalidParameter, 400},
		{"acs:kms:cn-hangzhou:" + DefaultAccount + ":key/", CodeKeyNotFound, 404},
		{strings.ToUpper(key), CodeKeyNotFound, 404},
		{"alias/none", CodeAliasNotFound, 404},
		{"", CodeMissingParameter, 400},
	}
	for _, c := range cases {
		md, err := te.api.DescribeKey(te.ctx, c.ref)
		wantErr(t, fmt.Sprintf("DescribeKey(%q)", c.ref), err, c.code, c.status)
		if c.code == "" && md.KeyId != key {
			t.Fatalf("DescribeKey(%q) resolved to %s", c.ref, md.KeyId)
		}
	}
}

func TestListKeysPaging(t *testing.T) {
	te := newTestEnv(t, Config{})
	var ids []string
	for range 5 {
		ids = append(ids, te.createKey(t))
	}
	var got []string
	for p := 1; p <= 3; p++ {
		l, err := te.api.ListKeys(te.ctx, Page{PageNumber: p, PageSize: 2})
		if err != nil || l.TotalCount != 5 || l.PageNumber != p || l.PageSize != 2 {
			t.Fatalf("page %d: %+v %v", p, l, err)
		}
		for _, k := range l.Keys {
			if k.KeyArn != "acs:kms:cn-hangzhou:"+DefaultAccount+":key/"+k.KeyId {
				t.Fatalf("KeyArn %s", k.KeyArn)
			}
			got = append(got, k.KeyId)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("ListKeys order %v, want creation order %v", got, ids)
	}
	if l, _ := te.api.ListKeys(te.ctx, Page{PageNumber: 4, PageSize: 2}); len(l.Keys) != 0 || l.TotalCount != 5 {
		t.Fatalf("page past the end: %+v", l)
	}
	if l, _ := te.api.ListKeys(te.ctx, Page{}); l.PageNumber != 1 || l.PageSize != 20 || len(l.Keys) != 5 {
		t.Fatalf("default page: %+v", l)
	}
	if l, _ := te.api.ListKeys(te.ctx, Page{PageNumber: 1 << 62, PageSize: 100}); len(l.Keys) != 0 {
		t.Fatalf("huge page number: %+v", l)
	}
	for _, p := range []Page{{PageSize: 101}, {PageSize: -1}, {PageNumber: -1}} {
		_, err := te.api.ListKeys(te.ctx, p)
		wantErr(t, fmt.Sprintf("ListKeys(%+v)", p), err, CodeInvalidParameter, 400)
	}
}

// TestDeterminism: with the same clock and randomness two emulators issue
// the same ids and blobs, so tests and scenarios can pin them.
func TestDeterminism(t *testing.T) {
	run := func() (string, []byte) {
		te := newTestEnv(t, Config{Rand: newDetRand(9)})
		key := te.createKey(t)
		return key, te.encrypt(t, key, []byte("p"), nil).CiphertextBlob
	}
	k1, b1 := run()
	k2, b2 := run()
	if k1 != k2 || !bytes.Equal(b1, b2) {
		t.Fatalf("not deterministic: %s/%s", k1, k2)
	}
	te := newTestEnv(t, Config{Rand: newDetRand(10)})
	if k3 := te.createKey(t); k3 == k1 {
		t.Fatal("different seeds gave the same key id")
	}
}
