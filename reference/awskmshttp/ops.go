package awskmshttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// AWS constants the emulator answers with (the only kinds it has).
const (
	symmetricDefault = "SYMMETRIC_DEFAULT"
	encryptDecrypt   = "ENCRYPT_DECRYPT"
	originAWSKMS     = "AWS_KMS"
	managerCustomer  = "CUSTOMER"
	managerAWS       = "AWS"
)

// AWS's bounds where they are narrower than the emulator's.
const (
	maxPlaintext        = 4096 // Encrypt
	maxCiphertext       = 6144 // Decrypt, ReEncrypt
	defaultPendingDays  = 30
	minPendingDays      = 7
	maxPendingDays      = 30
	defaultRotationDays = 365
	minRotationDays     = 90
	maxRotationDays     = 730 // AWS allows 2560; the emulator's interval stops at 730 days
	maxListLimit        = 1000
	maxAliasListLimit   = 100
	defaultListLimit    = 100
	emulatorPageSize    = 100
)

// opCtx is one operation's input.
type opCtx struct {
	h    *handler
	ctx  context.Context
	c    *call
	body []byte
}

type operation func(o *opCtx) (any, error)

// operations are the AWS KMS operations served, by X-Amz-Target name.
var operations = map[string]operation{
	"CreateKey": opCreateKey, "DescribeKey": opDescribeKey, "ListKeys": opListKeys,
	"EnableKey": opEnableKey, "DisableKey": opDisableKey,
	"ScheduleKeyDeletion": opScheduleKeyDeletion, "CancelKeyDeletion": opCancelKeyDeletion,
	"EnableKeyRotation": opEnableKeyRotation, "DisableKeyRotation": opDisableKeyRotation,
	"GetKeyRotationStatus": opGetKeyRotationStatus,
	"CreateAlias":          opCreateAlias, "UpdateAlias": opUpdateAlias, "DeleteAlias": opDeleteAlias,
	"ListAliases":     opListAliases,
	"GenerateDataKey": opGenerateDataKey, "GenerateDataKeyWithoutPlaintext": opGenerateDataKeyWithoutPlaintext,
	"Encrypt": opEncrypt, "Decrypt": opDecrypt, "ReEncrypt": opReEncrypt,
}

// decode reads the JSON body into v; an empty body is {}.
func (o *opCtx) decode(v any) error {
	b := bytes.TrimSpace(o.body)
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return newErr(http.StatusBadRequest, CodeSerialization, "The request body is not a valid %s input: %s", o.c.op, jsonProblem(err))
	}
	return nil
}

// jsonProblem names what was wrong without echoing values (a body may hold
// plaintext).
func jsonProblem(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("member %s must be %s", te.Field, te.Type)
	}
	return "malformed JSON"
}

// key converts a KeyId member and records it for messages and the log.
func (o *opCtx) key(keyID, member string) (string, error) {
	ref, ae := o.h.ids.ref(keyID, member)
	if ae != nil {
		return "", ae
	}
	o.c.key = ref
	if strings.HasPrefix(ref, kms.AliasPrefix) {
		o.c.alias = ref
	}
	return ref, nil
}

func (o *opCtx) region() string { return o.h.cfg.Region }

func noDryRun(dry bool) error {
	if dry {
		return errUnsupported("DryRun is not supported by this AWS KMS emulator.")
	}
	return nil
}

func checkAlgorithm(member, alg string) error {
	if alg != "" && alg != symmetricDefault {
		return newErr(http.StatusBadRequest, "InvalidKeyUsageException",
			"%s %s is not supported: the emulator's keys are symmetric (SYMMETRIC_DEFAULT).", member, truncate(alg, 64))
	}
	return nil
}

// ---- control plane ----

type awsKeyMetadata struct {
	AWSAccountId          string   `json:"AWSAccountId"`
	KeyId                 string   `json:"KeyId"`
	Arn                   string   `json:"Arn"`
	CreationDate          *int64   `json:"CreationDate,omitempty"`
	Enabled               bool     `json:"Enabled"`
	Description           string   `json:"Description"`
	KeyUsage              string   `json:"KeyUsage"`
	KeyState              string   `json:"KeyState"`
	DeletionDate          *int64   `json:"DeletionDate,omitempty"`
	Origin                string   `json:"Origin"`
	KeyManager            string   `json:"KeyManager"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	KeySpec               string   `json:"KeySpec"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms"`
	MultiRegion           bool     `json:"MultiRegion"`
}

// keyState maps the emulator's state onto AWS's KeyState. The names are
// the same for the three states the emulator has.
func keyState(s string) string {
	switch s {
	case kms.StateEnabled, kms.StateDisabled, kms.StatePendingDeletion:
		return s
	}
	return "Unavailable"
}

func (o *opCtx) metadata(md kms.KeyMetadata) awsKeyMetadata {
	manager := managerCustomer
	if md.Creator == kms.CreatorOSS {
		manager = managerAWS // a service key, like S3's alias/aws/s3 key
	}
	return awsKeyMetadata{
		AWSAccountId: o.h.ids.account, KeyId: md.KeyId, Arn: o.h.ids.keyARN(md.KeyId),
		CreationDate: epoch(md.CreationDate), Enabled: md.KeyState == kms.StateEnabled,
		Description: md.Description, KeyUsage: encryptDecrypt, KeyState: keyState(md.KeyState),
		DeletionDate: epoch(md.DeleteDate), Origin: originAWSKMS, KeyManager: manager,
		CustomerMasterKeySpec: symmetricDefault, KeySpec: symmetricDefault,
		EncryptionAlgorithms: []string{symmetricDefault},
	}
}

type keyMetadataOut struct {
	KeyMetadata awsKeyMetadata `json:"KeyMetadata"`
}

type empty struct{}

func opCreateKey(o *opCtx) (any, error) {
	var in struct {
		Description                    string
		KeyUsage                       string
		KeySpec                        string
		CustomerMasterKeySpec          string
		Origin                         string
		MultiRegion                    bool
		Policy                         string
		CustomKeyStoreId               string
		XksKeyId                       string
		BypassPolicyLockoutSafetyCheck bool
		Tags                           []json.RawMessage
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v, want string }{
		{"KeyUsage", in.KeyUsage, encryptDecrypt}, {"KeySpec", in.KeySpec, symmetricDefault},
		{"CustomerMasterKeySpec", in.CustomerMasterKeySpec, symmetricDefault}, {"Origin", in.Origin, originAWSKMS},
	} {
		if f.v != "" && f.v != f.want {
			return nil, errUnsupported("%s %s is not supported: the emulator creates %s keys only.", f.name, truncate(f.v, 64), f.want)
		}
	}
	switch {
	case in.MultiRegion:
		return nil, errUnsupported("MultiRegion keys are not supported by this AWS KMS emulator.")
	case in.Policy != "":
		return nil, errUnsupported("Key policies are not emulated; grant access in the users file (kms: use/read/manage) instead.")
	case len(in.Tags) > 0:
		return nil, errUnsupported("Tags are not supported by this AWS KMS emulator.")
	case in.CustomKeyStoreId != "" || in.XksKeyId != "":
		return nil, errUnsupported("Custom key stores are not supported by this AWS KMS emulator.")
	}
	md, err := o.h.api.CreateKey(o.ctx, kms.CreateKeyInput{Description: in.Description})
	if err != nil {
		return nil, err
	}
	o.c.key = md.KeyId
	return keyMetadataOut{o.metadata(md)}, nil
}

type keyIDIn struct {
	KeyId       string
	GrantTokens []string
}

func (o *opCtx) keyArg() (string, error) {
	var in keyIDIn
	if err := o.decode(&in); err != nil {
		return "", err
	}
	return o.key(in.KeyId, "keyId")
}

func opDescribeKey(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	md, err := o.h.api.DescribeKey(o.ctx, ref)
	if err != nil {
		return nil, err
	}
	return keyMetadataOut{o.metadata(md)}, nil
}

// listAll reads every page of an emulator listing (its pages stop at 100)
// so that AWS's Limit (up to 1000) and Marker can be applied to one list.
func listAll[T any](fetch func(kms.Page) ([]T, int, error)) ([]T, error) {
	var all []T
	for n := 1; ; n++ {
		items, total, err := fetch(kms.Page{PageNumber: n, PageSize: emulatorPageSize})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if len(items) == 0 || len(all) >= total {
			return all, nil
		}
	}
}

// page applies Limit and Marker. The marker is the decimal offset of the
// next entry: opaque to clients, as AWS's are, and stable while the list
// does not change between pages.
func page(limit *int, marker string, max, total int) (lo, hi int, next string, err error) {
	n := defaultListLimit
	if limit != nil {
		if *limit < 1 || *limit > max {
			return 0, 0, "", errValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, max)
		}
		n = *limit
	}
	if marker != "" {
		v, perr := strconv.Atoi(marker)
		if perr != nil || v < 0 || strconv.Itoa(v) != marker {
			return 0, 0, "", errValidation("Invalid marker: pass the NextMarker of the previous response.")
		}
		lo = min(v, total)
	}
	hi = min(lo+n, total)
	if hi < total {
		next = strconv.Itoa(hi)
	}
	return lo, hi, next, nil
}

type listKeysOut struct {
	Keys       []keyEntry `json:"Keys"`
	Truncated  bool       `json:"Truncated"`
	NextMarker string     `json:"NextMarker,omitempty"`
}

type keyEntry struct {
	KeyId  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

func opListKeys(o *opCtx) (any, error) {
	var in struct {
		Limit  *int
		Marker string
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	all, err := listAll(func(p kms.Page) ([]kms.KeyRef, int, error) {
		out, err := o.h.api.ListKeys(o.ctx, p)
		return out.Keys, out.TotalCount, err
	})
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := page(in.Limit, in.Marker, maxListLimit, len(all))
	if err != nil {
		return nil, err
	}
	out := listKeysOut{Keys: []keyEntry{}, Truncated: next != "", NextMarker: next}
	for _, k := range all[lo:hi] {
		out.Keys = append(out.Keys, keyEntry{KeyId: k.KeyId, KeyArn: o.h.ids.keyARN(k.KeyId)})
	}
	return out, nil
}

func opEnableKey(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.EnableKey(o.ctx, ref)
}

func opDisableKey(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.DisableKey(o.ctx, ref)
}

type scheduleOut struct {
	KeyId               string `json:"KeyId"`
	DeletionDate        *int64 `json:"DeletionDate,omitempty"`
	KeyState            string `json:"KeyState"`
	PendingWindowInDays int    `json:"PendingWindowInDays"`
}

func opScheduleKeyDeletion(o *opCtx) (any, error) {
	var in struct {
		KeyId               string
		PendingWindowInDays *int
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	ref, err := o.key(in.KeyId, "keyId")
	if err != nil {
		return nil, err
	}
	days := defaultPendingDays
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
		if days < minPendingDays || days > maxPendingDays {
			return nil, errValidation("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between %d and %d", days, minPendingDays, maxPendingDays)
		}
	}
	if err := o.h.api.ScheduleKeyDeletion(o.ctx, ref, days); err != nil {
		return nil, err
	}
	out := scheduleOut{KeyState: kms.StatePendingDeletion, PendingWindowInDays: days}
	// The call was authorized and performed on this key: its id and the
	// deletion date the emulator set complete AWS's answer.
	if md, ok := o.h.cfg.Emulator.Inspect(o.region(), ref); ok {
		out.KeyId, out.DeletionDate = o.h.ids.keyARN(md.KeyId), epoch(md.DeleteDate)
	} else {
		out.KeyId = o.h.ids.display(ref)
	}
	return out, nil
}

type keyIDOut struct {
	KeyId string `json:"KeyId"`
}

// opCancelKeyDeletion leaves the key Disabled, as AWS does ("the key state
// of the KMS key is Disabled"), where Alibaba's CancelKeyDeletion, and so
// the emulator's, returns it to Enabled: the emulator's DisableKey follows
// in the caller's name (both are manage operations). The two steps are not
// one transaction; between them the key is Enabled for an instant.
func opCancelKeyDeletion(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	if err := o.h.api.CancelKeyDeletion(o.ctx, ref); err != nil {
		return nil, err
	}
	if err := o.h.api.DisableKey(o.ctx, ref); err != nil {
		return nil, err
	}
	out := keyIDOut{KeyId: o.h.ids.display(ref)}
	if md, ok := o.h.cfg.Emulator.Inspect(o.region(), ref); ok {
		out.KeyId = o.h.ids.keyARN(md.KeyId)
	}
	return out, nil
}

func opEnableKeyRotation(o *opCtx) (any, error) {
	var in struct {
		KeyId                string
		RotationPeriodInDays *int
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	ref, err := o.key(in.KeyId, "keyId")
	if err != nil {
		return nil, err
	}
	days := defaultRotationDays
	if in.RotationPeriodInDays != nil {
		days = *in.RotationPeriodInDays
		if days < minRotationDays || days > maxRotationDays {
			return nil, errValidation("1 validation error detected: Value '%d' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between %d and %d (AWS allows up to 2560; this emulator's rotation interval stops at %d)",
				days, minRotationDays, maxRotationDays, maxRotationDays)
		}
	}
	return empty{}, o.h.api.UpdateRotationPolicy(o.ctx, ref, true, strconv.Itoa(days)+"d")
}

func opDisableKeyRotation(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.UpdateRotationPolicy(o.ctx, ref, false, "")
}

type rotationStatusOut struct {
	KeyId                string `json:"KeyId"`
	KeyRotationEnabled   bool   `json:"KeyRotationEnabled"`
	RotationPeriodInDays *int   `json:"RotationPeriodInDays,omitempty"`
	NextRotationDate     *int64 `json:"NextRotationDate,omitempty"`
}

// opGetKeyRotationStatus is the emulator's DescribeKey (a read, audited as
// DescribeKey): rotation is enabled when the emulator's AutomaticRotation
// is Enabled, or Suspended (configured on a key that is not Enabled; AWS
// keeps reporting such a key's rotation as enabled).
func opGetKeyRotationStatus(o *opCtx) (any, error) {
	ref, err := o.keyArg()
	if err != nil {
		return nil, err
	}
	md, err := o.h.api.DescribeKey(o.ctx, ref)
	if err != nil {
		return nil, err
	}
	out := rotationStatusOut{KeyId: o.h.ids.keyARN(md.KeyId)}
	if md.AutomaticRotation == kms.RotationEnabled || md.AutomaticRotation == kms.RotationSuspended {
		out.KeyRotationEnabled = true
		if secs, perr := strconv.ParseInt(strings.TrimSuffix(md.RotationInterval, "s"), 10, 64); perr == nil {
			d := int(time.Duration(secs) * time.Second / (24 * time.Hour))
			out.RotationPeriodInDays = &d
		}
		if md.AutomaticRotation == kms.RotationEnabled {
			out.NextRotationDate = epoch(md.NextRotationDate)
		}
	}
	return out, nil
}

// ---- aliases ----

type aliasIn struct {
	AliasName   string
	TargetKeyId string
}

// aliasArgs reads AliasName (and TargetKeyId when target is true; AWS
// takes a key id or key ARN there, not an alias).
func (o *opCtx) aliasArgs(target bool) (alias, ref string, err error) {
	var in aliasIn
	if err := o.decode(&in); err != nil {
		return "", "", err
	}
	if in.AliasName == "" {
		return "", "", errRequired("aliasName")
	}
	if !strings.HasPrefix(in.AliasName, kms.AliasPrefix) {
		return "", "", errValidation("Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/programming-aliases.html")
	}
	if target {
		if ref, err = o.key(in.TargetKeyId, "targetKeyId"); err != nil {
			return "", "", err
		}
		if strings.HasPrefix(ref, kms.AliasPrefix) {
			return "", "", errValidation("TargetKeyId must be a key id or key ARN, not an alias.")
		}
	}
	o.c.alias = in.AliasName
	return in.AliasName, ref, nil
}

func opCreateAlias(o *opCtx) (any, error) {
	alias, ref, err := o.aliasArgs(true)
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.CreateAlias(o.ctx, alias, ref)
}

func opUpdateAlias(o *opCtx) (any, error) {
	alias, ref, err := o.aliasArgs(true)
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.UpdateAlias(o.ctx, alias, ref)
}

func opDeleteAlias(o *opCtx) (any, error) {
	alias, _, err := o.aliasArgs(false)
	if err != nil {
		return nil, err
	}
	return empty{}, o.h.api.DeleteAlias(o.ctx, alias)
}

type aliasEntry struct {
	AliasName   string `json:"AliasName"`
	AliasArn    string `json:"AliasArn"`
	TargetKeyId string `json:"TargetKeyId,omitempty"`
}

type listAliasesOut struct {
	Aliases    []aliasEntry `json:"Aliases"`
	Truncated  bool         `json:"Truncated"`
	NextMarker string       `json:"NextMarker,omitempty"`
}

// opListAliases is the emulator's ListAliases, or ListAliasesByKeyId when
// KeyId is given (both reads).
func opListAliases(o *opCtx) (any, error) {
	var in struct {
		KeyId  string
		Limit  *int
		Marker string
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	var ref string
	if in.KeyId != "" {
		var err error
		if ref, err = o.key(in.KeyId, "keyId"); err != nil {
			return nil, err
		}
	}
	all, err := listAll(func(p kms.Page) ([]kms.Alias, int, error) {
		var out kms.ListAliasesOutput
		var err error
		if ref != "" {
			out, err = o.h.api.ListAliasesByKeyID(o.ctx, ref, p)
		} else {
			out, err = o.h.api.ListAliases(o.ctx, p)
		}
		return out.Aliases, out.TotalCount, err
	})
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := page(in.Limit, in.Marker, maxAliasListLimit, len(all))
	if err != nil {
		return nil, err
	}
	out := listAliasesOut{Aliases: []aliasEntry{}, Truncated: next != "", NextMarker: next}
	for _, a := range all[lo:hi] {
		out.Aliases = append(out.Aliases, aliasEntry{AliasName: a.AliasName, AliasArn: o.h.ids.aliasARN(a.AliasName), TargetKeyId: a.KeyId})
	}
	return out, nil
}

// ---- data plane ----

type dataKeyIn struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     *int
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            bool
}

type dataKeyOut struct {
	KeyId          string `json:"KeyId"`
	CiphertextBlob []byte `json:"CiphertextBlob"`
	Plaintext      []byte `json:"Plaintext,omitempty"`
}

// dataKeyInput applies AWS's rule: exactly one of KeySpec (AES_256,
// AES_128) and NumberOfBytes (1..1024). The emulator follows Alibaba,
// where NumberOfBytes wins and neither means 32 bytes.
func (o *opCtx) dataKeyInput() (kms.GenerateDataKeyInput, error) {
	var in dataKeyIn
	if err := o.decode(&in); err != nil {
		return kms.GenerateDataKeyInput{}, err
	}
	ref, err := o.key(in.KeyId, "keyId")
	if err != nil {
		return kms.GenerateDataKeyInput{}, err
	}
	if err := noDryRun(in.DryRun); err != nil {
		return kms.GenerateDataKeyInput{}, err
	}
	out := kms.GenerateDataKeyInput{KeyId: ref, EncryptionContext: in.EncryptionContext}
	switch {
	case (in.KeySpec == "") == (in.NumberOfBytes == nil):
		return out, errValidation("Please specify either number of bytes or key spec.")
	case in.NumberOfBytes != nil:
		if *in.NumberOfBytes < 1 || *in.NumberOfBytes > 1024 {
			return out, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024", *in.NumberOfBytes)
		}
		out.NumberOfBytes = *in.NumberOfBytes
	case in.KeySpec != kms.DataKeySpecAES256 && in.KeySpec != kms.DataKeySpecAES128:
		return out, errValidation("1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", truncate(in.KeySpec, 64))
	default:
		out.KeySpec = in.KeySpec
	}
	return out, nil
}

func opGenerateDataKey(o *opCtx) (any, error) {
	in, err := o.dataKeyInput()
	if err != nil {
		return nil, err
	}
	res, err := o.h.api.GenerateDataKey(o.ctx, in)
	if err != nil {
		return nil, err
	}
	return dataKeyOut{KeyId: o.h.ids.keyARN(res.KeyId), CiphertextBlob: res.CiphertextBlob, Plaintext: res.Plaintext}, nil
}

func opGenerateDataKeyWithoutPlaintext(o *opCtx) (any, error) {
	in, err := o.dataKeyInput()
	if err != nil {
		return nil, err
	}
	res, err := o.h.api.GenerateDataKeyWithoutPlaintext(o.ctx, in)
	if err != nil {
		return nil, err
	}
	return dataKeyOut{KeyId: o.h.ids.keyARN(res.KeyId), CiphertextBlob: res.CiphertextBlob}, nil
}

type encryptOut struct {
	KeyId               string `json:"KeyId"`
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func opEncrypt(o *opCtx) (any, error) {
	var in struct {
		KeyId               string
		Plaintext           []byte
		EncryptionContext   map[string]string
		EncryptionAlgorithm string
		GrantTokens         []string
		DryRun              bool
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	ref, err := o.key(in.KeyId, "keyId")
	if err != nil {
		return nil, err
	}
	if len(in.Plaintext) == 0 {
		return nil, errRequired("plaintext")
	}
	if len(in.Plaintext) > maxPlaintext {
		return nil, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to %d", maxPlaintext)
	}
	if err := checkAlgorithm("EncryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := noDryRun(in.DryRun); err != nil {
		return nil, err
	}
	res, err := o.h.api.Encrypt(o.ctx, kms.EncryptInput{KeyId: ref, Plaintext: in.Plaintext, EncryptionContext: in.EncryptionContext})
	if err != nil {
		return nil, err
	}
	return encryptOut{KeyId: o.h.ids.keyARN(res.KeyId), CiphertextBlob: res.CiphertextBlob, EncryptionAlgorithm: symmetricDefault}, nil
}

func checkBlob(blob []byte) error {
	if len(blob) == 0 {
		return errRequired("ciphertextBlob")
	}
	if len(blob) > maxCiphertext {
		return errValidation("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to %d", maxCiphertext)
	}
	return nil
}

// sameKey reports whether the optional KeyId member names the key the
// blob was sealed under (keyID). It is asked only after the emulator
// authorized and performed the call on that key, so comparing cannot tell
// an unauthorized caller where an alias points.
func (o *opCtx) sameKey(ref, keyID string) error {
	md, ok := o.h.cfg.Emulator.Inspect(o.region(), ref)
	if !ok {
		return mapError(&kms.Error{Code: notFoundCode(ref)}, o.h.ids.display(ref), o.h.ids.display(ref))
	}
	if md.KeyId != keyID {
		return newErr(http.StatusBadRequest, CodeIncorrectKey,
			"The key ID in the request does not identify a KMS key that can perform this operation.")
	}
	return nil
}

func notFoundCode(ref string) string {
	if strings.HasPrefix(ref, kms.AliasPrefix) {
		return kms.CodeAliasNotFound
	}
	return kms.CodeKeyNotFound
}

type decryptOut struct {
	KeyId               string `json:"KeyId"`
	Plaintext           []byte `json:"Plaintext"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func opDecrypt(o *opCtx) (any, error) {
	var in struct {
		CiphertextBlob      []byte
		EncryptionContext   map[string]string
		KeyId               string
		EncryptionAlgorithm string
		GrantTokens         []string
		DryRun              bool
		Recipient           json.RawMessage
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	if err := checkBlob(in.CiphertextBlob); err != nil {
		return nil, err
	}
	var ref string
	if in.KeyId != "" {
		var err error
		if ref, err = o.key(in.KeyId, "keyId"); err != nil {
			return nil, err
		}
	}
	if err := checkAlgorithm("EncryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if len(in.Recipient) > 0 && string(in.Recipient) != "null" {
		return nil, errUnsupported("Recipient (attested decryption for Nitro enclaves) is not supported by this AWS KMS emulator.")
	}
	if err := noDryRun(in.DryRun); err != nil {
		return nil, err
	}
	res, err := o.h.api.Decrypt(o.ctx, kms.DecryptInput{CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.EncryptionContext})
	if err != nil {
		return nil, err
	}
	if ref != "" {
		if err := o.sameKey(ref, res.KeyId); err != nil {
			return nil, err
		}
	}
	return decryptOut{KeyId: o.h.ids.keyARN(res.KeyId), Plaintext: res.Plaintext, EncryptionAlgorithm: symmetricDefault}, nil
}

type reEncryptOut struct {
	KeyId                          string `json:"KeyId"`
	SourceKeyId                    string `json:"SourceKeyId"`
	CiphertextBlob                 []byte `json:"CiphertextBlob"`
	SourceEncryptionAlgorithm      string `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string `json:"DestinationEncryptionAlgorithm"`
}

func opReEncrypt(o *opCtx) (any, error) {
	var in struct {
		CiphertextBlob                 []byte
		SourceEncryptionContext        map[string]string
		SourceKeyId                    string
		DestinationKeyId               string
		DestinationEncryptionContext   map[string]string
		SourceEncryptionAlgorithm      string
		DestinationEncryptionAlgorithm string
		GrantTokens                    []string
		DryRun                         bool
	}
	if err := o.decode(&in); err != nil {
		return nil, err
	}
	if err := checkBlob(in.CiphertextBlob); err != nil {
		return nil, err
	}
	var src string
	if in.SourceKeyId != "" {
		r, ae := o.h.ids.ref(in.SourceKeyId, "sourceKeyId")
		if ae != nil {
			return nil, ae
		}
		src = r
	}
	dst, err := o.key(in.DestinationKeyId, "destinationKeyId")
	if err != nil {
		return nil, err
	}
	if err := checkAlgorithm("SourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("DestinationEncryptionAlgorithm", in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := noDryRun(in.DryRun); err != nil {
		return nil, err
	}
	res, err := o.h.api.ReEncrypt(o.ctx, kms.ReEncryptInput{
		CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: in.SourceEncryptionContext,
		DestinationKeyId: dst, DestinationEncryptionContext: in.DestinationEncryptionContext,
	})
	if err != nil {
		return nil, err
	}
	// The emulator opened the blob, so its header names the source key.
	srcID := blobKeyID(in.CiphertextBlob)
	if src != "" {
		if err := o.sameKey(src, srcID); err != nil {
			return nil, err
		}
	}
	return reEncryptOut{
		KeyId: o.h.ids.keyARN(res.KeyId), SourceKeyId: o.h.ids.keyARN(srcID), CiphertextBlob: res.CiphertextBlob,
		SourceEncryptionAlgorithm: symmetricDefault, DestinationEncryptionAlgorithm: symmetricDefault,
	}, nil
}
