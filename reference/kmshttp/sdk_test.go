package kmshttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// TestSDKRoundTrip drives every operation through the official SDK, in both
// signature modes, against the real emulator over loopback HTTP.
func TestSDKRoundTrip(t *testing.T) {
	for _, mode := range sdkModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.client(testCred.AccessKeyID, testCred.AccessKeySecret, mode.opts...)
			direct := f.emu.Region(testRegion)
			ctx := context.Background()

			// CreateKey and DescribeKey: every KeyMetadata field the SDK
			// declares (bar the DKMS ones) is present and equals the emulator's.
			created, err := c.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("round trip")})
			if err != nil {
				t.Fatal(err)
			}
			keyID := tea.StringValue(created.Body.KeyMetadata.KeyId)
			if keyID == "" || tea.StringValue(created.Body.KeyMetadata.KeyState) != kms.StateEnabled {
				t.Fatalf("CreateKey: %v", created.Body)
			}
			checkRequestID(t, created.Headers, created.Body.RequestId)
			described, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(keyID)})
			if err != nil {
				t.Fatal(err)
			}
			want, err := direct.DescribeKey(ctx, keyID)
			if err != nil {
				t.Fatal(err)
			}
			checkKeyMetadata(t, described.Body.KeyMetadata, want)
			if want.Description != "round trip" || want.KeySpec != kms.KeySpecAES256 || want.Arn == "" || want.PrimaryKeyVersion == "" {
				t.Fatalf("unexpected metadata %+v", want)
			}

			// GenerateDataKey → Decrypt, with an EncryptionContext.
			ec := map[string]interface{}{"bucket": "b1", "object": "a/b c+d"}
			gdk, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(keyID), NumberOfBytes: tea.Int32(32), EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			checkRequestID(t, gdk.Headers, gdk.Body.RequestId)
			pt, err := base64.StdEncoding.DecodeString(tea.StringValue(gdk.Body.Plaintext))
			if err != nil || len(pt) != 32 {
				t.Fatalf("GenerateDataKey plaintext %d bytes, %v", len(pt), err)
			}
			v1 := tea.StringValue(gdk.Body.KeyVersionId)
			if tea.StringValue(gdk.Body.KeyId) != keyID || v1 != want.PrimaryKeyVersion {
				t.Fatalf("GenerateDataKey ids %v", gdk.Body)
			}
			blob1 := gdk.Body.CiphertextBlob
			dec, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blob1, EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(dec.Body.Plaintext) != tea.StringValue(gdk.Body.Plaintext) ||
				tea.StringValue(dec.Body.KeyVersionId) != v1 || tea.StringValue(dec.Body.KeyId) != keyID {
				t.Fatalf("Decrypt gave %v", dec.Body)
			}

			// The context is bound: a different or missing one fails.
			for _, bad := range []map[string]interface{}{{"bucket": "b2", "object": "a/b c+d"}, nil} {
				_, err = c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blob1, EncryptionContext: bad})
				wantSDKError(t, err, 400, kms.CodeInvalidCiphertext)
			}

			// Defaults and the WithoutPlaintext variant.
			gdk2, err := c.GenerateDataKeyWithoutPlaintext(&kmssdk.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(keyID), KeySpec: tea.String("AES_128")})
			if err != nil {
				t.Fatal(err)
			}
			dec2, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: gdk2.Body.CiphertextBlob})
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := base64.StdEncoding.DecodeString(tea.StringValue(dec2.Body.Plaintext)); len(b) != 16 {
				t.Fatalf("AES_128 data key is %d bytes", len(b))
			}

			// Encrypt / Decrypt of caller data (base64 on the wire).
			msg := base64.StdEncoding.EncodeToString([]byte("hello, kms"))
			enc, err := c.Encrypt(&kmssdk.EncryptRequest{KeyId: tea.String(keyID), Plaintext: tea.String(msg)})
			if err != nil {
				t.Fatal(err)
			}
			dec3, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: enc.Body.CiphertextBlob})
			if err != nil || tea.StringValue(dec3.Body.Plaintext) != msg {
				t.Fatalf("Encrypt/Decrypt: %v %v", dec3, err)
			}

			// Disabled keys refuse the data plane with 409 Rejected.Disabled.
			if _, err := c.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(keyID)}); err != nil {
				t.Fatal(err)
			}
			_, err = c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(keyID)})
			wantSDKError(t, err, 409, kms.CodeDisabled)
			_, err = c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blob1, EncryptionContext: ec})
			wantSDKError(t, err, 409, kms.CodeDisabled)
			if _, err := c.EnableKey(&kmssdk.EnableKeyRequest{KeyId: tea.String(keyID)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blob1, EncryptionContext: ec}); err != nil {
				t.Fatalf("Decrypt after EnableKey: %v", err)
			}

			// The OSS service key behind alias/acs/oss.
			oss, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(kms.ServiceKeyAliasOSS)})
			if err != nil {
				t.Fatal(err)
			}
			if tea.StringValue(oss.Body.KeyMetadata.Creator) != kms.CreatorOSS || tea.StringValue(oss.Body.KeyMetadata.KeyId) == "" {
				t.Fatalf("alias/acs/oss: %v", oss.Body.KeyMetadata)
			}

			// Aliases.
			other, err := c.CreateKey(&kmssdk.CreateKeyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			otherID := tea.StringValue(other.Body.KeyMetadata.KeyId)
			if _, err := c.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String("alias/app"), KeyId: tea.String(keyID)}); err != nil {
				t.Fatal(err)
			}
			byAlias, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("alias/app")})
			if err != nil || tea.StringValue(byAlias.Body.KeyMetadata.KeyId) != keyID {
				t.Fatalf("DescribeKey(alias/app): %v %v", byAlias, err)
			}
			la, err := c.ListAliases(&kmssdk.ListAliasesRequest{PageSize: tea.Int32(100)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(la.Body.Aliases.Alias, func(a *kmssdk.ListAliasesResponseBodyAliasesAlias) bool {
				return tea.StringValue(a.AliasName) == "alias/app" && tea.StringValue(a.KeyId) == keyID && tea.StringValue(a.AliasArn) != ""
			}) {
				t.Fatalf("ListAliases lacks alias/app: %s", la.Body)
			}
			if _, err := c.UpdateAlias(&kmssdk.UpdateAliasRequest{AliasName: tea.String("alias/app"), KeyId: tea.String(otherID)}); err != nil {
				t.Fatal(err)
			}
			lab, err := c.ListAliasesByKeyId(&kmssdk.ListAliasesByKeyIdRequest{KeyId: tea.String(otherID)})
			if err != nil || tea.Int32Value(lab.Body.TotalCount) != 1 || tea.StringValue(lab.Body.Aliases.Alias[0].AliasName) != "alias/app" {
				t.Fatalf("ListAliasesByKeyId: %v %v", lab, err)
			}
			if _, err := c.DeleteAlias(&kmssdk.DeleteAliasRequest{AliasName: tea.String("alias/app")}); err != nil {
				t.Fatal(err)
			}
			_, err = c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("alias/app")})
			wantSDKError(t, err, 404, kms.CodeAliasNotFound)

			// Versions and rotation: old blobs still decrypt with their version.
			nv, err := c.CreateKeyVersion(&kmssdk.CreateKeyVersionRequest{KeyId: tea.String(keyID)})
			if err != nil {
				t.Fatal(err)
			}
			v2 := tea.StringValue(nv.Body.KeyVersion.KeyVersionId)
			if v2 == "" || v2 == v1 || tea.StringValue(nv.Body.KeyVersion.KeyId) != keyID || tea.StringValue(nv.Body.KeyVersion.CreationDate) == "" {
				t.Fatalf("CreateKeyVersion: %v", nv.Body)
			}
			lv, err := c.ListKeyVersions(&kmssdk.ListKeyVersionsRequest{KeyId: tea.String(keyID)})
			if err != nil || tea.Int32Value(lv.Body.TotalCount) != 2 || len(lv.Body.KeyVersions.KeyVersion) != 2 {
				t.Fatalf("ListKeyVersions: %v %v", lv, err)
			}
			dv, err := c.DescribeKeyVersion(&kmssdk.DescribeKeyVersionRequest{KeyId: tea.String(keyID), KeyVersionId: tea.String(v1)})
			if err != nil || tea.StringValue(dv.Body.KeyVersion.KeyVersionId) != v1 {
				t.Fatalf("DescribeKeyVersion: %v %v", dv, err)
			}
			gdk3, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(keyID)})
			if err != nil || tea.StringValue(gdk3.Body.KeyVersionId) != v2 {
				t.Fatalf("GenerateDataKey after rotation uses %v (%v), want %s", gdk3, err, v2)
			}
			dec4, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blob1, EncryptionContext: ec})
			if err != nil || tea.StringValue(dec4.Body.KeyVersionId) != v1 {
				t.Fatalf("Decrypt of a pre-rotation blob: %v %v", dec4, err)
			}
			if _, err := c.UpdateRotationPolicy(&kmssdk.UpdateRotationPolicyRequest{KeyId: tea.String(keyID), EnableAutomaticRotation: tea.Bool(true), RotationInterval: tea.String("30d")}); err != nil {
				t.Fatal(err)
			}
			rot, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(keyID)})
			if err != nil || tea.StringValue(rot.Body.KeyMetadata.AutomaticRotation) != kms.RotationEnabled ||
				tea.StringValue(rot.Body.KeyMetadata.RotationInterval) != "2592000s" || tea.StringValue(rot.Body.KeyMetadata.PrimaryKeyVersion) != v2 {
				t.Fatalf("after UpdateRotationPolicy: %v %v", rot, err)
			}
			_, err = c.UpdateRotationPolicy(&kmssdk.UpdateRotationPolicyRequest{KeyId: tea.String(keyID)})
			wantSDKError(t, err, 400, CodeMissingParameter)

			// ReEncrypt moves a blob to another key and context.
			ctx2 := map[string]interface{}{"purpose": "rewrap"}
			re, err := c.ReEncrypt(&kmssdk.ReEncryptRequest{CiphertextBlob: blob1, SourceEncryptionContext: ec, DestinationKeyId: tea.String(otherID), DestinationEncryptionContext: ctx2})
			if err != nil || tea.StringValue(re.Body.KeyId) != otherID {
				t.Fatalf("ReEncrypt: %v %v", re, err)
			}
			dec5, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: re.Body.CiphertextBlob, EncryptionContext: ctx2})
			if err != nil || tea.StringValue(dec5.Body.Plaintext) != tea.StringValue(gdk.Body.Plaintext) || tea.StringValue(dec5.Body.KeyId) != otherID {
				t.Fatalf("Decrypt of the re-encrypted blob: %v %v", dec5, err)
			}

			// UpdateKeyDescription and ListKeys (all pages).
			if _, err := c.UpdateKeyDescription(&kmssdk.UpdateKeyDescriptionRequest{KeyId: tea.String(otherID), Description: tea.String("second & last")}); err != nil {
				t.Fatal(err)
			}
			if m, _ := direct.DescribeKey(ctx, otherID); m.Description != "second & last" {
				t.Fatalf("description is %q", m.Description)
			}
			var listed []string
			for page := int32(1); ; page++ {
				lk, err := c.ListKeys(&kmssdk.ListKeysRequest{PageNumber: tea.Int32(page), PageSize: tea.Int32(1)})
				if err != nil {
					t.Fatal(err)
				}
				if tea.Int32Value(lk.Body.PageNumber) != page || tea.Int32Value(lk.Body.PageSize) != 1 {
					t.Fatalf("ListKeys page fields: %v", lk.Body)
				}
				for _, k := range lk.Body.Keys.Key {
					if tea.StringValue(k.KeyArn) == "" {
						t.Fatalf("ListKeys entry without KeyArn: %v", k)
					}
					listed = append(listed, tea.StringValue(k.KeyId))
				}
				if int32(len(listed)) >= tea.Int32Value(lk.Body.TotalCount) || len(lk.Body.Keys.Key) == 0 {
					break
				}
			}
			if !slices.Contains(listed, keyID) || !slices.Contains(listed, otherID) {
				t.Fatalf("ListKeys gave %v", listed)
			}

			// ScheduleKeyDeletion / CancelKeyDeletion.
			if _, err := c.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(otherID), PendingWindowInDays: tea.Int32(7)}); err != nil {
				t.Fatal(err)
			}
			pd, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(otherID)})
			if err != nil || tea.StringValue(pd.Body.KeyMetadata.KeyState) != kms.StatePendingDeletion || tea.StringValue(pd.Body.KeyMetadata.DeleteDate) == "" {
				t.Fatalf("after ScheduleKeyDeletion: %v %v", pd, err)
			}
			_, err = c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(otherID)})
			wantSDKError(t, err, 409, kms.CodePendingDeletion)
			_, err = c.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(keyID), PendingWindowInDays: tea.Int32(3)})
			wantSDKError(t, err, 400, CodeInvalidParameter)
			if _, err := c.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: tea.String(otherID)}); err != nil {
				t.Fatal(err)
			}
			if m, _ := direct.DescribeKey(ctx, otherID); m.KeyState == kms.StatePendingDeletion || m.DeleteDate != "" {
				t.Fatalf("after CancelKeyDeletion: %+v", m)
			}

			// Unknown keys.
			_, err = c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("00000000-0000-4000-8000-000000000000")})
			wantSDKError(t, err, 404, kms.CodeKeyNotFound)
		})
	}
}

// checkKeyMetadata compares the SDK's view with the emulator's, field by
// field; every field the SDK struct declares, except the two DKMS ones the
// emulator has no notion of, must have been sent.
func checkKeyMetadata(t *testing.T, got *kmssdk.DescribeKeyResponseBodyKeyMetadata, want kms.KeyMetadata) {
	t.Helper()
	if got == nil {
		t.Fatal("no KeyMetadata")
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if name == "DKMSInstanceId" || name == "DeletionProtectionDescription" {
			continue
		}
		p := gv.Field(i).Interface().(*string)
		if p == nil {
			t.Errorf("KeyMetadata.%s is missing", name)
			continue
		}
		w := wv.FieldByName(name)
		if !w.IsValid() {
			t.Errorf("kms.KeyMetadata has no field %s", name)
			continue
		}
		if *p != w.String() {
			t.Errorf("KeyMetadata.%s = %q, want %q", name, *p, w.String())
		}
	}
}

func checkRequestID(t *testing.T, headers map[string]*string, bodyID *string) {
	t.Helper()
	id := tea.StringValue(bodyID)
	if len(id) != 36 || tea.StringValue(headers["x-acs-request-id"]) != id {
		t.Fatalf("RequestId %q, header %q", id, tea.StringValue(headers["x-acs-request-id"]))
	}
}

// TestSDKRefusals checks authentication and protocol errors as the SDK sees
// them, in both signature modes.
func TestSDKRefusals(t *testing.T) {
	for _, mode := range sdkModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			describe := func(c *kmssdk.Client) error {
				_, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("alias/acs/oss")})
				return err
			}
			good := f.client(testCred.AccessKeyID, testCred.AccessKeySecret, mode.opts...)
			if err := describe(good); err != nil {
				t.Fatal(err)
			}
			wantSDKError(t, describe(f.client(testCred.AccessKeyID, "wrong-secret", mode.opts...)), 400, CodeSignatureDoesNotMatch)
			wantSDKError(t, describe(f.client("LTAIUNKNOWN", testCred.AccessKeySecret, mode.opts...)), 404, CodeAccessKeyNotFound)

			// Unknown action and wrong version through the SDK's generic CallApi.
			call := func(action, version string) error {
				_, err := good.CallApi(&openapi.Params{
					Action: tea.String(action), Version: tea.String(version), Protocol: tea.String("HTTPS"),
					Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"),
					Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
				}, &openapi.OpenApiRequest{Query: map[string]*string{}}, &util.RuntimeOptions{})
				return err
			}
			wantSDKError(t, call("NoSuchAction", APIVersion), 404, CodeActionNotFound)
			wantSDKError(t, call("DescribeKey", "2015-01-01"), 400, CodeInvalidVersion)

			// The handler's clock 20 minutes off, either way.
			for _, off := range []time.Duration{20 * time.Minute, -20 * time.Minute} {
				f.srvClock.Advance(off)
				wantSDKError(t, describe(good), 400, CodeTimestampExpired)
				f.srvClock.Advance(-off)
			}
			if err := describe(good); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReplayedRequestRefused replays a request the SDK signed, byte for byte.
func TestReplayedRequestRefused(t *testing.T) {
	for _, mode := range sdkModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			c := f.client(testCred.AccessKeyID, testCred.AccessKeySecret, mode.opts...)
			if _, err := c.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("once")}); err != nil {
				t.Fatal(err)
			}
			rec := f.lastRequest()
			// The mode really is the one named.
			isACS3 := strings.HasPrefix(rec.header.Get("Authorization"), "ACS3-HMAC-SHA256 ")
			isRPC := strings.Contains(rec.uri, "Signature=") && strings.Contains(rec.uri, "SignatureMethod=HMAC-SHA1")
			if isACS3 == isRPC || isACS3 != (mode.name == "ACS3") {
				t.Fatalf("mode %s sent Authorization %q, URI %q", mode.name, rec.header.Get("Authorization"), rec.uri)
			}
			header := rec.header.Clone()
			header.Set("Host", strings.TrimPrefix(f.srv.URL, "http://"))
			got := f.do(rec.method, rec.uri, header, rec.body)
			if got.status != 400 || got.code() != CodeNonceUsed {
				t.Fatalf("replay answered %d %v", got.status, got.body)
			}
			keys, err := f.emu.Region(testRegion).ListKeys(context.Background(), kms.Page{PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if keys.TotalCount != 1 {
				t.Fatalf("the replay created a key: %d keys", keys.TotalCount)
			}
			// After the skew window the replay is refused for its timestamp.
			f.srvClock.Advance(16 * time.Minute)
			if got := f.do(rec.method, rec.uri, header, rec.body); got.code() != CodeTimestampExpired {
				t.Fatalf("late replay answered %v", got.body)
			}
		})
	}
}

// TestLogLine checks the per-request log line: one per request, with
// action, principal and code, and without secrets, plaintexts or blobs.
func TestLogLine(t *testing.T) {
	f := newFixture(t)
	c := f.client(testCred.AccessKeyID, testCred.AccessKeySecret)
	created, err := c.CreateKey(&kmssdk.CreateKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	keyID := tea.StringValue(created.Body.KeyMetadata.KeyId)
	gdk, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: tea.String("!!")})
	wantSDKError(t, err, 400, CodeInvalidParameter)
	logs := f.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 log lines, got %d:\n%s", len(lines), logs)
	}
	for _, want := range []string{`"action":"GenerateDataKey"`, `"principal":"alice"`, `"code":"OK"`, `"key":"` + keyID + `"`, `"code":"InvalidParameter"`, `"status":400`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{testCred.AccessKeySecret, tea.StringValue(gdk.Body.Plaintext), tea.StringValue(gdk.Body.CiphertextBlob)} {
		if strings.Contains(logs, secret) || bytes.Contains([]byte(logs), []byte(secret[:16])) {
			t.Errorf("logs contain a secret value")
		}
	}
}
