package awskmshttp

import (
	"net/http"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// ids maps between AWS key identifiers and the emulator's references. The
// emulator's key ids (lower-case GUIDs) are used unchanged as AWS key ids;
// ARNs are built from the partition, the served region and the emulator's
// account, so one key has one id on both protocols.
type ids struct{ partition, region, account string }

func (x ids) keyARN(id string) string {
	return "arn:" + x.partition + ":kms:" + x.region + ":" + x.account + ":key/" + id
}

func (x ids) aliasARN(alias string) string {
	return "arn:" + x.partition + ":kms:" + x.region + ":" + x.account + ":" + alias
}

// display is a reference as AWS names it in messages: the ARN of the key
// or alias.
func (x ids) display(ref string) string {
	if ref == "" || strings.HasPrefix(ref, "arn:") {
		return ref
	}
	if strings.HasPrefix(ref, kms.AliasPrefix) {
		return x.aliasARN(ref)
	}
	return x.keyARN(ref)
}

// ref converts a KeyId as AWS accepts it (key id, key ARN, alias name or
// alias ARN) into the emulator's reference (key id or alias name). member
// is the request member, for the error when it is empty. An ARN of another
// partition, region or account names no key here: NotFoundException, as
// AWS answers for a key it cannot find. Alibaba "acs:" ARNs are not AWS
// key ids and are refused the same way.
func (x ids) ref(keyID, member string) (string, *apiError) {
	if keyID == "" {
		return "", errRequired(member)
	}
	if len(keyID) > 2048 {
		return "", errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 2048", member)
	}
	if strings.HasPrefix(keyID, "acs:") {
		return "", newErr(http.StatusBadRequest, CodeNotFound, "Invalid keyId '%s': use a key id, key ARN, alias name or alias ARN.", truncate(keyID, 256))
	}
	rest, ok := strings.CutPrefix(keyID, "arn:")
	if !ok {
		return keyID, nil
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) != 5 || parts[1] != "kms" {
		return "", newErr(http.StatusBadRequest, CodeNotFound, "Invalid arn '%s': a KMS ARN is arn:%s:kms:<region>:<account>:key/<key-id> or ...:alias/<name>.", truncate(keyID, 256), x.partition)
	}
	res := parts[4]
	isAlias := strings.HasPrefix(res, kms.AliasPrefix)
	if !isAlias && !strings.HasPrefix(res, "key/") {
		return "", newErr(http.StatusBadRequest, CodeNotFound, "Invalid arn '%s': the resource must be key/<key-id> or alias/<name>.", truncate(keyID, 256))
	}
	if parts[0] != x.partition || parts[2] != x.region || parts[3] != x.account {
		if isAlias {
			return "", newErr(http.StatusBadRequest, CodeNotFound, "Alias '%s' is not found.", truncate(keyID, 256))
		}
		return "", newErr(http.StatusBadRequest, CodeNotFound, "Key '%s' does not exist", truncate(keyID, 256))
	}
	if isAlias {
		return res, nil
	}
	id := strings.TrimPrefix(res, "key/")
	if id == "" {
		return "", newErr(http.StatusBadRequest, CodeNotFound, "Key '%s' does not exist", truncate(keyID, 256))
	}
	return id, nil
}

// epoch converts a kms.TimeFormat date into AWS JSON's timestamp (seconds
// since the epoch); nil for an empty or unreadable date.
func epoch(s string) *int64 {
	if s == "" {
		return nil
	}
	t, err := time.Parse(kms.TimeFormat, s)
	if err != nil {
		return nil
	}
	v := t.Unix()
	return &v
}

// blobKeyID returns the key id a ciphertext blob names, from its header
// (format 1, see package kms: "KEB1" 0x01 u8(len) KeyId ...), or "".
func blobKeyID(blob []byte) string {
	if len(blob) < 6 || string(blob[:4]) != "KEB1" || blob[4] != 0x01 {
		return ""
	}
	n := int(blob[5])
	if len(blob) < 6+n {
		return ""
	}
	return string(blob[6 : 6+n])
}
