package awskmshttp

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// keys is the fixture's key set for the operation table: a is Enabled and
// aliased alias/app-one, b is a second Enabled key, c is used for the
// deletion cases.
type keys struct{ a, b, c string }

func (f *fixture) makeKeys(c *awskms.Client) keys {
	f.t.Helper()
	var k keys
	for i, p := range []*string{&k.a, &k.b, &k.c} {
		out, err := c.CreateKey(ctx(f.t), &awskms.CreateKeyInput{Description: aws.String("key " + string(rune('a'+i)))})
		if err != nil {
			f.t.Fatal(err)
		}
		*p = aws.ToString(out.KeyMetadata.KeyId)
	}
	if _, err := c.CreateAlias(ctx(f.t), &awskms.CreateAliasInput{AliasName: aws.String("alias/app-one"), TargetKeyId: aws.String(k.a)}); err != nil {
		f.t.Fatal(err)
	}
	return k
}

// TestOperationsThroughTheSDK drives every served operation with
// aws-sdk-go-v2's KMS client, unmodified, in order (the cases share state):
// results, AWS's id forms, and each error as AWS's __type and status.
func TestOperationsThroughTheSDK(t *testing.T) {
	f := newFixture(t)
	c := f.client(rootCred)
	k := f.makeKeys(c)
	secret := []byte("attack at dawn")
	encCtx := map[string]string{"purpose": "test", "tenant": "a"}
	var blobA []byte // Encrypt(a, secret, encCtx)

	cases := []struct {
		name   string
		call   func(t *testing.T) error // checks its own successful output
		status int
		code   string // "" = success
	}{
		{"CreateKey metadata", func(t *testing.T) error {
			out, err := c.CreateKey(ctx(t), &awskms.CreateKeyInput{Description: aws.String("d"), KeyUsage: types.KeyUsageTypeEncryptDecrypt, KeySpec: types.KeySpecSymmetricDefault})
			if err != nil {
				return err
			}
			md := out.KeyMetadata
			if md.KeyState != types.KeyStateEnabled || !md.Enabled || aws.ToString(md.Arn) != f.arn(aws.ToString(md.KeyId)) ||
				md.KeyManager != types.KeyManagerTypeCustomer || md.KeySpec != types.KeySpecSymmetricDefault ||
				md.KeyUsage != types.KeyUsageTypeEncryptDecrypt || md.Origin != types.OriginTypeAwsKms ||
				aws.ToString(md.AWSAccountId) != f.emu.Account() || md.CreationDate == nil || aws.ToString(md.Description) != "d" ||
				!slices.Equal(md.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecSymmetricDefault}) {
				t.Fatalf("metadata: %+v", md)
			}
			return nil
		}, 0, ""},
		{"CreateKey asymmetric refused", func(t *testing.T) error {
			_, err := c.CreateKey(ctx(t), &awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
			return err
		}, 400, CodeUnsupportedOperation},
		{"CreateKey with a policy refused", func(t *testing.T) error {
			_, err := c.CreateKey(ctx(t), &awskms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17"}`)})
			return err
		}, 400, CodeUnsupportedOperation},
	}
	// DescribeKey accepts the four AWS forms of a key id.
	for _, form := range []struct{ name, id string }{
		{"key id", k.a}, {"key ARN", f.arn(k.a)}, {"alias name", "alias/app-one"}, {"alias ARN", f.aliasArn("alias/app-one")},
	} {
		cases = append(cases, struct {
			name   string
			call   func(t *testing.T) error
			status int
			code   string
		}{"DescribeKey by " + form.name, func(t *testing.T) error {
			out, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(form.id)})
			if err != nil {
				return err
			}
			if aws.ToString(out.KeyMetadata.KeyId) != k.a || aws.ToString(out.KeyMetadata.Arn) != f.arn(k.a) {
				t.Fatalf("DescribeKey(%s) = %s %s", form.id, aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn))
			}
			return nil
		}, 0, ""})
	}
	describe := func(id string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			return err
		}
	}
	encrypt := func(id string) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: secret})
			return err
		}
	}
	decrypt := func(blob *[]byte, keyID string, ec map[string]string) func(t *testing.T) error {
		return func(t *testing.T) error {
			in := &awskms.DecryptInput{CiphertextBlob: *blob, EncryptionContext: ec}
			if keyID != "" {
				in.KeyId = aws.String(keyID)
			}
			out, err := c.Decrypt(ctx(t), in)
			if err != nil {
				return err
			}
			if !bytes.Equal(out.Plaintext, secret) || aws.ToString(out.KeyId) != f.arn(k.a) || out.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				t.Fatalf("Decrypt = %q %s %s", out.Plaintext, aws.ToString(out.KeyId), out.EncryptionAlgorithm)
			}
			return nil
		}
	}
	type tc = struct {
		name   string
		call   func(t *testing.T) error
		status int
		code   string
	}
	otherAccount := "arn:aws:kms:" + testRegion + ":999999999999:key/" + k.a
	cases = append(cases, []tc{
		{"DescribeKey unknown id", describe("00000000-0000-4000-8000-000000000000"), 400, CodeNotFound},
		{"DescribeKey unknown alias", describe("alias/none"), 400, CodeNotFound},
		{"DescribeKey ARN of another account", describe(otherAccount), 400, CodeNotFound},
		{"DescribeKey ARN of another region", describe("arn:aws:kms:us-east-1:" + f.emu.Account() + ":key/" + k.a), 400, CodeNotFound},
		{"DescribeKey Alibaba ARN", describe("acs:kms:" + testRegion + ":" + f.emu.Account() + ":key/" + k.a), 400, CodeNotFound},
		{"DescribeKey empty id", describe(""), 400, CodeValidation},

		{"GenerateDataKey AES_256", func(t *testing.T) error {
			out, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String("alias/app-one"), KeySpec: types.DataKeySpecAes256, EncryptionContext: encCtx})
			if err != nil {
				return err
			}
			if len(out.Plaintext) != 32 || aws.ToString(out.KeyId) != f.arn(k.a) || len(out.CiphertextBlob) == 0 {
				t.Fatalf("GenerateDataKey: %d bytes, KeyId %s", len(out.Plaintext), aws.ToString(out.KeyId))
			}
			dec, err := c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: encCtx})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatal("the data key does not decrypt to itself")
			}
			return nil
		}, 0, ""},
		{"GenerateDataKey NumberOfBytes", func(t *testing.T) error {
			out, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.a), NumberOfBytes: aws.Int32(16)})
			if err != nil {
				return err
			}
			if len(out.Plaintext) != 16 {
				t.Fatalf("got %d bytes", len(out.Plaintext))
			}
			return nil
		}, 0, ""},
		{"GenerateDataKey neither KeySpec nor NumberOfBytes", func(t *testing.T) error {
			_, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.a)})
			return err
		}, 400, CodeValidation},
		{"GenerateDataKey both", func(t *testing.T) error {
			_, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.a), KeySpec: types.DataKeySpecAes128, NumberOfBytes: aws.Int32(16)})
			return err
		}, 400, CodeValidation},
		{"GenerateDataKey 1025 bytes", func(t *testing.T) error {
			_, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.a), NumberOfBytes: aws.Int32(1025)})
			return err
		}, 400, CodeValidation},
		{"GenerateDataKeyWithoutPlaintext", func(t *testing.T) error {
			out, err := c.GenerateDataKeyWithoutPlaintext(ctx(t), &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(f.aliasArn("alias/app-one")), KeySpec: types.DataKeySpecAes256})
			if err != nil {
				return err
			}
			if aws.ToString(out.KeyId) != f.arn(k.a) || len(out.CiphertextBlob) == 0 {
				t.Fatalf("KeyId %s", aws.ToString(out.KeyId))
			}
			dec, err := c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
			if err != nil || len(dec.Plaintext) != 32 {
				t.Fatalf("decrypt: %v", err)
			}
			return nil
		}, 0, ""},
		{"GenerateDataKey unknown key", func(t *testing.T) error {
			_, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String("alias/none"), KeySpec: types.DataKeySpecAes256})
			return err
		}, 400, CodeNotFound},

		{"Encrypt", func(t *testing.T) error {
			out, err := c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String("alias/app-one"), Plaintext: secret, EncryptionContext: encCtx})
			if err != nil {
				return err
			}
			if aws.ToString(out.KeyId) != f.arn(k.a) || out.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				t.Fatalf("Encrypt KeyId %s", aws.ToString(out.KeyId))
			}
			blobA = out.CiphertextBlob
			return nil
		}, 0, ""},
		{"Encrypt 4097 bytes", func(t *testing.T) error {
			_, err := c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.a), Plaintext: make([]byte, 4097)})
			return err
		}, 400, CodeValidation},
		{"Encrypt asymmetric algorithm", func(t *testing.T) error {
			_, err := c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.a), Plaintext: secret, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			return err
		}, 400, "InvalidKeyUsageException"},
		{"Decrypt without KeyId", decrypt(&blobA, "", encCtx), 0, ""},
		{"Decrypt with key id", decrypt(&blobA, k.a, encCtx), 0, ""},
		{"Decrypt with alias", decrypt(&blobA, "alias/app-one", encCtx), 0, ""},
		{"Decrypt with alias ARN", decrypt(&blobA, f.aliasArn("alias/app-one"), encCtx), 0, ""},
		{"Decrypt with another key", decrypt(&blobA, k.b, encCtx), 400, CodeIncorrectKey},
		{"Decrypt with an unknown alias", decrypt(&blobA, "alias/none", encCtx), 400, CodeNotFound},
		{"Decrypt wrong context", decrypt(&blobA, "", map[string]string{"purpose": "test", "tenant": "b"}), 400, CodeInvalidCiphertext},
		{"Decrypt no context", decrypt(&blobA, "", nil), 400, CodeInvalidCiphertext},
		{"Decrypt tampered blob", func(t *testing.T) error {
			bad := bytes.Clone(blobA)
			bad[len(bad)-1] ^= 1
			_, err := c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: bad, EncryptionContext: encCtx})
			return err
		}, 400, CodeInvalidCiphertext},
		{"Decrypt garbage", func(t *testing.T) error {
			_, err := c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: []byte("not a blob")})
			return err
		}, 400, CodeInvalidCiphertext},
		{"ReEncrypt to b", func(t *testing.T) error {
			out, err := c.ReEncrypt(ctx(t), &awskms.ReEncryptInput{CiphertextBlob: blobA, SourceEncryptionContext: encCtx, DestinationKeyId: aws.String(k.b), SourceKeyId: aws.String("alias/app-one")})
			if err != nil {
				return err
			}
			if aws.ToString(out.KeyId) != f.arn(k.b) || aws.ToString(out.SourceKeyId) != f.arn(k.a) {
				t.Fatalf("ReEncrypt KeyId %s SourceKeyId %s", aws.ToString(out.KeyId), aws.ToString(out.SourceKeyId))
			}
			dec, err := c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob, KeyId: aws.String(k.b)})
			if err != nil || !bytes.Equal(dec.Plaintext, secret) {
				t.Fatalf("decrypt the re-encrypted blob: %v", err)
			}
			return nil
		}, 0, ""},
		{"ReEncrypt with the wrong SourceKeyId", func(t *testing.T) error {
			_, err := c.ReEncrypt(ctx(t), &awskms.ReEncryptInput{CiphertextBlob: blobA, SourceEncryptionContext: encCtx, DestinationKeyId: aws.String(k.b), SourceKeyId: aws.String(k.b)})
			return err
		}, 400, CodeIncorrectKey},

		{"DisableKey b", func(t *testing.T) error {
			_, err := c.DisableKey(ctx(t), &awskms.DisableKeyInput{KeyId: aws.String(f.arn(k.b))})
			return err
		}, 0, ""},
		{"DescribeKey disabled", func(t *testing.T) error {
			out, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.b)})
			if err != nil {
				return err
			}
			if out.KeyMetadata.KeyState != types.KeyStateDisabled || out.KeyMetadata.Enabled {
				t.Fatalf("state %s enabled %v", out.KeyMetadata.KeyState, out.KeyMetadata.Enabled)
			}
			return nil
		}, 0, ""},
		{"Encrypt with a disabled key", encrypt(k.b), 400, CodeDisabled},
		{"GenerateDataKey with a disabled key", func(t *testing.T) error {
			_, err := c.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.b), KeySpec: types.DataKeySpecAes256})
			return err
		}, 400, CodeDisabled},
		{"EnableKey b", func(t *testing.T) error {
			_, err := c.EnableKey(ctx(t), &awskms.EnableKeyInput{KeyId: aws.String(k.b)})
			return err
		}, 0, ""},
		{"Encrypt with the re-enabled key", encrypt(k.b), 0, ""},
		{"EnableKey unknown", func(t *testing.T) error {
			_, err := c.EnableKey(ctx(t), &awskms.EnableKeyInput{KeyId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, 400, CodeNotFound},

		{"ScheduleKeyDeletion 31 days", func(t *testing.T) error {
			_, err := c.ScheduleKeyDeletion(ctx(t), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(k.c), PendingWindowInDays: aws.Int32(31)})
			return err
		}, 400, CodeValidation},
		{"ScheduleKeyDeletion 7 days", func(t *testing.T) error {
			out, err := c.ScheduleKeyDeletion(ctx(t), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(k.c), PendingWindowInDays: aws.Int32(7)})
			if err != nil {
				return err
			}
			want := f.emuClock.Now().Add(7 * 24 * time.Hour)
			if aws.ToString(out.KeyId) != f.arn(k.c) || out.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(out.PendingWindowInDays) != 7 ||
				out.DeletionDate == nil || out.DeletionDate.Sub(want).Abs() > time.Second {
				t.Fatalf("ScheduleKeyDeletion: %s %s %v %v (want %v)", aws.ToString(out.KeyId), out.KeyState, aws.ToInt32(out.PendingWindowInDays), out.DeletionDate, want)
			}
			return nil
		}, 0, ""},
		{"DescribeKey pending deletion", func(t *testing.T) error {
			out, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.c)})
			if err != nil {
				return err
			}
			if out.KeyMetadata.KeyState != types.KeyStatePendingDeletion || out.KeyMetadata.DeletionDate == nil {
				t.Fatalf("state %s deletion %v", out.KeyMetadata.KeyState, out.KeyMetadata.DeletionDate)
			}
			return nil
		}, 0, ""},
		{"Encrypt with a key pending deletion", encrypt(k.c), 400, CodeInvalidState},
		{"ScheduleKeyDeletion twice", func(t *testing.T) error {
			_, err := c.ScheduleKeyDeletion(ctx(t), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(k.c)})
			return err
		}, 400, CodeInvalidState},
		{"EnableKey pending deletion", func(t *testing.T) error {
			_, err := c.EnableKey(ctx(t), &awskms.EnableKeyInput{KeyId: aws.String(k.c)})
			return err
		}, 400, CodeInvalidState},
		{"CancelKeyDeletion leaves the key Disabled", func(t *testing.T) error {
			out, err := c.CancelKeyDeletion(ctx(t), &awskms.CancelKeyDeletionInput{KeyId: aws.String(k.c)})
			if err != nil {
				return err
			}
			if aws.ToString(out.KeyId) != f.arn(k.c) {
				t.Fatalf("KeyId %s", aws.ToString(out.KeyId))
			}
			d, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.c)})
			if err != nil {
				t.Fatal(err)
			}
			if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.DeletionDate != nil {
				t.Fatalf("after CancelKeyDeletion: %s %v", d.KeyMetadata.KeyState, d.KeyMetadata.DeletionDate)
			}
			return nil
		}, 0, ""},
		{"CancelKeyDeletion not pending", func(t *testing.T) error {
			_, err := c.CancelKeyDeletion(ctx(t), &awskms.CancelKeyDeletionInput{KeyId: aws.String(k.c)})
			return err
		}, 400, CodeInvalidState},

		{"GetKeyRotationStatus off", func(t *testing.T) error {
			out, err := c.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String(k.a)})
			if err != nil {
				return err
			}
			if out.KeyRotationEnabled || aws.ToString(out.KeyId) != f.arn(k.a) {
				t.Fatalf("rotation %v KeyId %s", out.KeyRotationEnabled, aws.ToString(out.KeyId))
			}
			return nil
		}, 0, ""},
		{"EnableKeyRotation default period", func(t *testing.T) error {
			if _, err := c.EnableKeyRotation(ctx(t), &awskms.EnableKeyRotationInput{KeyId: aws.String("alias/app-one")}); err != nil {
				return err
			}
			out, err := c.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String(k.a)})
			if err != nil {
				t.Fatal(err)
			}
			want := f.emuClock.Now().Add(365 * 24 * time.Hour)
			if !out.KeyRotationEnabled || aws.ToInt32(out.RotationPeriodInDays) != 365 || out.NextRotationDate == nil || out.NextRotationDate.Sub(want).Abs() > time.Second {
				t.Fatalf("rotation %v period %d next %v", out.KeyRotationEnabled, aws.ToInt32(out.RotationPeriodInDays), out.NextRotationDate)
			}
			return nil
		}, 0, ""},
		{"EnableKeyRotation 90 days", func(t *testing.T) error {
			if _, err := c.EnableKeyRotation(ctx(t), &awskms.EnableKeyRotationInput{KeyId: aws.String(k.a), RotationPeriodInDays: aws.Int32(90)}); err != nil {
				return err
			}
			out, err := c.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String(k.a)})
			if err != nil || aws.ToInt32(out.RotationPeriodInDays) != 90 {
				t.Fatalf("period: %v %v", err, out)
			}
			return nil
		}, 0, ""},
		{"EnableKeyRotation 89 days", func(t *testing.T) error {
			_, err := c.EnableKeyRotation(ctx(t), &awskms.EnableKeyRotationInput{KeyId: aws.String(k.a), RotationPeriodInDays: aws.Int32(89)})
			return err
		}, 400, CodeValidation},
		{"DisableKeyRotation", func(t *testing.T) error {
			if _, err := c.DisableKeyRotation(ctx(t), &awskms.DisableKeyRotationInput{KeyId: aws.String(k.a)}); err != nil {
				return err
			}
			out, err := c.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String(k.a)})
			if err != nil || out.KeyRotationEnabled {
				t.Fatalf("still enabled: %v", err)
			}
			return nil
		}, 0, ""},
		{"GetKeyRotationStatus unknown", func(t *testing.T) error {
			_, err := c.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String("alias/none")})
			return err
		}, 400, CodeNotFound},

		{"CreateAlias duplicate", func(t *testing.T) error {
			_, err := c.CreateAlias(ctx(t), &awskms.CreateAliasInput{AliasName: aws.String("alias/app-one"), TargetKeyId: aws.String(k.b)})
			return err
		}, 400, CodeAlreadyExists},
		{"CreateAlias unknown target", func(t *testing.T) error {
			_, err := c.CreateAlias(ctx(t), &awskms.CreateAliasInput{AliasName: aws.String("alias/app-two"), TargetKeyId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, 400, CodeNotFound},
		{"CreateAlias without the alias/ prefix", func(t *testing.T) error {
			_, err := c.CreateAlias(ctx(t), &awskms.CreateAliasInput{AliasName: aws.String("app-two"), TargetKeyId: aws.String(k.b)})
			return err
		}, 400, CodeValidation},
		{"CreateAlias targeting an alias", func(t *testing.T) error {
			_, err := c.CreateAlias(ctx(t), &awskms.CreateAliasInput{AliasName: aws.String("alias/app-two"), TargetKeyId: aws.String("alias/app-one")})
			return err
		}, 400, CodeValidation},
		{"UpdateAlias to b", func(t *testing.T) error {
			if _, err := c.UpdateAlias(ctx(t), &awskms.UpdateAliasInput{AliasName: aws.String("alias/app-one"), TargetKeyId: aws.String(f.arn(k.b))}); err != nil {
				return err
			}
			out, err := c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String("alias/app-one"), Plaintext: secret})
			if err != nil || aws.ToString(out.KeyId) != f.arn(k.b) {
				t.Fatalf("the alias does not point at b: %v", err)
			}
			// A blob of a no longer matches the alias.
			_, err = c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: blobA, EncryptionContext: encCtx, KeyId: aws.String("alias/app-one")})
			wantAPIError(t, err, 400, CodeIncorrectKey)
			return nil
		}, 0, ""},
		{"ListAliases by key", func(t *testing.T) error {
			out, err := c.ListAliases(ctx(t), &awskms.ListAliasesInput{KeyId: aws.String(k.b)})
			if err != nil {
				return err
			}
			if len(out.Aliases) != 1 || aws.ToString(out.Aliases[0].AliasName) != "alias/app-one" ||
				aws.ToString(out.Aliases[0].AliasArn) != f.aliasArn("alias/app-one") || aws.ToString(out.Aliases[0].TargetKeyId) != k.b {
				t.Fatalf("aliases of b: %+v", out.Aliases)
			}
			return nil
		}, 0, ""},
		{"DeleteAlias", func(t *testing.T) error {
			if _, err := c.DeleteAlias(ctx(t), &awskms.DeleteAliasInput{AliasName: aws.String("alias/app-one")}); err != nil {
				return err
			}
			out, err := c.ListAliases(ctx(t), &awskms.ListAliasesInput{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range out.Aliases {
				if aws.ToString(a.AliasName) == "alias/app-one" {
					t.Fatal("alias/app-one is still listed")
				}
			}
			return nil
		}, 0, ""},
		{"DeleteAlias again", func(t *testing.T) error {
			_, err := c.DeleteAlias(ctx(t), &awskms.DeleteAliasInput{AliasName: aws.String("alias/app-one")})
			return err
		}, 400, CodeNotFound},
		{"UpdateAlias unknown", func(t *testing.T) error {
			_, err := c.UpdateAlias(ctx(t), &awskms.UpdateAliasInput{AliasName: aws.String("alias/none"), TargetKeyId: aws.String(k.b)})
			return err
		}, 400, CodeNotFound},
		{"unserved operation", func(t *testing.T) error {
			_, err := c.Sign(ctx(t), &awskms.SignInput{KeyId: aws.String(k.a), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
			return err
		}, 400, CodeUnknownOperation},
	}...)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.status, tc.code)
		})
	}
}

// TestTypedErrors: the SDK decodes the answers into its own typed errors,
// so callers branching on them (errors.As) work as against AWS.
func TestTypedErrors(t *testing.T) {
	f := newFixture(t)
	c := f.client(rootCred)
	_, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	if _, ok := errors.AsType[*types.NotFoundException](err); !ok {
		t.Fatalf("not a *types.NotFoundException: %T %v", err, err)
	}
	k := f.makeKeys(c)
	if _, err := c.DisableKey(ctx(t), &awskms.DisableKeyInput{KeyId: aws.String(k.a)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.a), Plaintext: []byte("x")})
	if _, ok := errors.AsType[*types.DisabledException](err); !ok {
		t.Fatalf("not a *types.DisabledException: %T %v", err, err)
	}
	if !strings.Contains(err.Error(), f.arn(k.a)) {
		t.Fatalf("the message does not name the key's ARN: %v", err)
	}
	_, err = c.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: []byte("junk")})
	if _, ok := errors.AsType[*types.InvalidCiphertextException](err); !ok {
		t.Fatalf("not a *types.InvalidCiphertextException: %T %v", err, err)
	}
}

// TestListKeysPaging: Limit and Marker page through every key exactly
// once, in creation order; a bad Limit or Marker is a ValidationException.
func TestListKeysPaging(t *testing.T) {
	f := newFixture(t)
	c := f.client(rootCred)
	var want []string
	for range 7 {
		out, err := c.CreateKey(ctx(t), &awskms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, aws.ToString(out.KeyMetadata.KeyId))
	}
	for _, limit := range []int32{1, 2, 3, 7, 1000} {
		var got []string
		var marker *string
		pages := 0
		for {
			out, err := c.ListKeys(ctx(t), &awskms.ListKeysInput{Limit: aws.Int32(limit), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Keys) > int(limit) {
				t.Fatalf("limit %d: page of %d", limit, len(out.Keys))
			}
			for _, k := range out.Keys {
				if aws.ToString(k.KeyArn) != f.arn(aws.ToString(k.KeyId)) {
					t.Fatalf("KeyArn %s for %s", aws.ToString(k.KeyArn), aws.ToString(k.KeyId))
				}
				got = append(got, aws.ToString(k.KeyId))
			}
			if !out.Truncated {
				if out.NextMarker != nil {
					t.Fatal("NextMarker on the last page")
				}
				break
			}
			marker = out.NextMarker
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: got %v, want %v", limit, got, want)
		}
		if wantPages := (7 + int(limit) - 1) / int(limit); pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	// The SDK's own paginator.
	p := awskms.NewListKeysPaginator(c, &awskms.ListKeysInput{Limit: aws.Int32(3)})
	var n int
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Keys)
	}
	if n != 7 {
		t.Fatalf("paginator saw %d keys", n)
	}
	_, err := c.ListKeys(ctx(t), &awskms.ListKeysInput{Limit: aws.Int32(1001)})
	wantAPIError(t, err, 400, CodeValidation)
	_, err = c.ListKeys(ctx(t), &awskms.ListKeysInput{Marker: aws.String("not-a-marker")})
	wantAPIError(t, err, 400, CodeValidation)
}

// TestAuthorization: every call is decided by the users file for the
// principal of the SigV4 access key; refusals are AccessDeniedException
// (400) and unknown keys are not revealed to a principal without grants.
func TestAuthorization(t *testing.T) {
	f := newFixture(t)
	root := f.client(rootCred)
	k := f.makeKeys(root) // a is alias/app-one; b has no app alias
	blob, err := root.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.a), Plaintext: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	blobB, err := root.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.b), Plaintext: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	aud, nob := f.client(auditorCred), f.client(nobodyCred)
	cases := []struct {
		name string
		call func() error
		code string // "" = allowed
	}{
		{"auditor DescribeKey (read *)", func() error {
			_, err := aud.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.b)})
			return err
		}, ""},
		{"auditor ListKeys (read *)", func() error { _, err := aud.ListKeys(ctx(t), &awskms.ListKeysInput{}); return err }, ""},
		{"auditor ListAliases (read *)", func() error { _, err := aud.ListAliases(ctx(t), &awskms.ListAliasesInput{}); return err }, ""},
		{"auditor GetKeyRotationStatus (read *)", func() error {
			_, err := aud.GetKeyRotationStatus(ctx(t), &awskms.GetKeyRotationStatusInput{KeyId: aws.String(k.a)})
			return err
		}, ""},
		{"auditor Encrypt by id with an alias/app-* key", func() error {
			_, err := aud.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(f.arn(k.a)), Plaintext: []byte("x")})
			return err
		}, ""},
		{"auditor Decrypt a's blob, KeyId by alias", func() error {
			_, err := aud.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: blob.CiphertextBlob, KeyId: aws.String("alias/app-one")})
			return err
		}, ""},
		{"auditor Encrypt with b (no use grant)", func() error {
			_, err := aud.Encrypt(ctx(t), &awskms.EncryptInput{KeyId: aws.String(k.b), Plaintext: []byte("x")})
			return err
		}, CodeAccessDenied},
		{"auditor Decrypt b's blob", func() error {
			_, err := aud.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: blobB.CiphertextBlob})
			return err
		}, CodeAccessDenied},
		{"auditor Decrypt b's blob naming a", func() error {
			// Refused on b, the blob's key; the KeyId comparison never runs.
			_, err := aud.Decrypt(ctx(t), &awskms.DecryptInput{CiphertextBlob: blobB.CiphertextBlob, KeyId: aws.String("alias/app-one")})
			return err
		}, CodeAccessDenied},
		{"auditor CreateKey (no manage)", func() error { _, err := aud.CreateKey(ctx(t), &awskms.CreateKeyInput{}); return err }, CodeAccessDenied},
		{"auditor DisableKey", func() error {
			_, err := aud.DisableKey(ctx(t), &awskms.DisableKeyInput{KeyId: aws.String(k.a)})
			return err
		}, CodeAccessDenied},
		{"auditor ScheduleKeyDeletion", func() error {
			_, err := aud.ScheduleKeyDeletion(ctx(t), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(k.a)})
			return err
		}, CodeAccessDenied},
		{"auditor EnableKeyRotation", func() error {
			_, err := aud.EnableKeyRotation(ctx(t), &awskms.EnableKeyRotationInput{KeyId: aws.String(k.a)})
			return err
		}, CodeAccessDenied},
		{"auditor CreateAlias", func() error {
			_, err := aud.CreateAlias(ctx(t), &awskms.CreateAliasInput{AliasName: aws.String("alias/app-x"), TargetKeyId: aws.String(k.a)})
			return err
		}, CodeAccessDenied},
		{"nobody DescribeKey", func() error {
			_, err := nob.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.a)})
			return err
		}, CodeAccessDenied},
		{"nobody DescribeKey unknown (no probing)", func() error {
			_, err := nob.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String("alias/none")})
			return err
		}, CodeAccessDenied},
		{"nobody ListKeys", func() error { _, err := nob.ListKeys(ctx(t), &awskms.ListKeysInput{}); return err }, CodeAccessDenied},
		{"nobody GenerateDataKey", func() error {
			_, err := nob.GenerateDataKey(ctx(t), &awskms.GenerateDataKeyInput{KeyId: aws.String(k.a), KeySpec: types.DataKeySpecAes256})
			return err
		}, CodeAccessDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantAPIError(t, err, http.StatusBadRequest, tc.code)
		})
	}
	logs, audit := f.logs.String(), f.audit.String()
	if !strings.Contains(logs, `"principal":"auditor"`) || !strings.Contains(logs, `"code":"AccessDeniedException"`) {
		t.Fatalf("refusals are not logged with principal and code:\n%s", logs)
	}
	if !strings.Contains(audit, `"principal":"nobody"`) || !strings.Contains(audit, `"result":"Forbidden.NoPermission"`) {
		t.Fatalf("the emulator's audit log lacks the refused principal:\n%s", audit)
	}
	for _, secret := range []string{rootCred.AccessKeySecret, auditorCred.AccessKeySecret} {
		if strings.Contains(logs, secret) {
			t.Fatal("a secret reached the log")
		}
	}
}
