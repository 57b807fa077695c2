package kmshttp

import (
	"context"
	"encoding/base64"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// APIVersion is the only KMS API version served.
const APIVersion = "2016-01-20"

// response is a success body; every one carries RequestId.
type response interface{ setRequestID(string) }

// meta is embedded in every response body.
type meta struct {
	RequestId string `json:"RequestId"`
}

func (m *meta) setRequestID(id string) { m.RequestId = id }

// action serves one KMS operation from its decoded parameters. keyParam
// names the parameter logged as the request's key (never a secret).
type action struct {
	serve    func(ctx context.Context, api kms.API, p params) (response, error)
	keyParam string
}

// actions are the operations of kms.API, by their Alibaba Action names.
var actions = map[string]action{
	"CreateKey":                       {serve: createKey},
	"DescribeKey":                     {serve: describeKey, keyParam: "KeyId"},
	"ListKeys":                        {serve: listKeys},
	"UpdateKeyDescription":            {serve: updateKeyDescription, keyParam: "KeyId"},
	"EnableKey":                       {serve: keyOnly(kms.API.EnableKey), keyParam: "KeyId"},
	"DisableKey":                      {serve: keyOnly(kms.API.DisableKey), keyParam: "KeyId"},
	"ScheduleKeyDeletion":             {serve: scheduleKeyDeletion, keyParam: "KeyId"},
	"CancelKeyDeletion":               {serve: keyOnly(kms.API.CancelKeyDeletion), keyParam: "KeyId"},
	"CreateKeyVersion":                {serve: createKeyVersion, keyParam: "KeyId"},
	"ListKeyVersions":                 {serve: listKeyVersions, keyParam: "KeyId"},
	"DescribeKeyVersion":              {serve: describeKeyVersion, keyParam: "KeyId"},
	"UpdateRotationPolicy":            {serve: updateRotationPolicy, keyParam: "KeyId"},
	"CreateAlias":                     {serve: aliasToKey(kms.API.CreateAlias), keyParam: "KeyId"},
	"UpdateAlias":                     {serve: aliasToKey(kms.API.UpdateAlias), keyParam: "KeyId"},
	"DeleteAlias":                     {serve: deleteAlias, keyParam: "AliasName"},
	"ListAliases":                     {serve: listAliases},
	"ListAliasesByKeyId":              {serve: listAliasesByKeyID, keyParam: "KeyId"},
	"GenerateDataKey":                 {serve: generateDataKey(false), keyParam: "KeyId"},
	"GenerateDataKeyWithoutPlaintext": {serve: generateDataKey(true), keyParam: "KeyId"},
	"Encrypt":                         {serve: encrypt, keyParam: "KeyId"},
	"Decrypt":                         {serve: decrypt},
	"ReEncrypt":                       {serve: reEncrypt, keyParam: "DestinationKeyId"},
}

// Wire shapes, field for field as the kms-20160120 v3 SDK response structs
// unmarshal them.

type wireKeyMetadata struct {
	KeyId              string `json:"KeyId"`
	Arn                string `json:"Arn"`
	Description        string `json:"Description"`
	KeySpec            string `json:"KeySpec"`
	KeyUsage           string `json:"KeyUsage"`
	KeyState           string `json:"KeyState"`
	Creator            string `json:"Creator"`
	CreationDate       string `json:"CreationDate"`
	PrimaryKeyVersion  string `json:"PrimaryKeyVersion"`
	AutomaticRotation  string `json:"AutomaticRotation"`
	RotationInterval   string `json:"RotationInterval"`
	LastRotationDate   string `json:"LastRotationDate"`
	NextRotationDate   string `json:"NextRotationDate"`
	DeleteDate         string `json:"DeleteDate"`
	Origin             string `json:"Origin"`
	ProtectionLevel    string `json:"ProtectionLevel"`
	DeletionProtection string `json:"DeletionProtection"`
	MaterialExpireTime string `json:"MaterialExpireTime"`
}

func toWireKeyMetadata(m kms.KeyMetadata) wireKeyMetadata {
	return wireKeyMetadata{
		KeyId: m.KeyId, Arn: m.Arn, Description: m.Description, KeySpec: m.KeySpec,
		KeyUsage: m.KeyUsage, KeyState: m.KeyState, Creator: m.Creator, CreationDate: m.CreationDate,
		PrimaryKeyVersion: m.PrimaryKeyVersion, AutomaticRotation: m.AutomaticRotation,
		RotationInterval: m.RotationInterval, LastRotationDate: m.LastRotationDate,
		NextRotationDate: m.NextRotationDate, DeleteDate: m.DeleteDate, Origin: m.Origin,
		ProtectionLevel: m.ProtectionLevel, DeletionProtection: m.DeletionProtection,
		MaterialExpireTime: m.MaterialExpireTime,
	}
}

type keyMetadataResp struct {
	KeyMetadata wireKeyMetadata `json:"KeyMetadata"`
	meta
}

type emptyResp struct{ meta }

type wireKeyRef struct {
	KeyId  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

type listKeysResp struct {
	Keys struct {
		Key []wireKeyRef `json:"Key"`
	} `json:"Keys"`
	TotalCount int `json:"TotalCount"`
	PageNumber int `json:"PageNumber"`
	PageSize   int `json:"PageSize"`
	meta
}

type wireKeyVersion struct {
	KeyId        string `json:"KeyId"`
	KeyVersionId string `json:"KeyVersionId"`
	CreationDate string `json:"CreationDate"`
}

func toWireKeyVersion(v kms.KeyVersion) wireKeyVersion {
	return wireKeyVersion{KeyId: v.KeyId, KeyVersionId: v.KeyVersionId, CreationDate: v.CreationDate}
}

type keyVersionResp struct {
	KeyVersion wireKeyVersion `json:"KeyVersion"`
	meta
}

type listKeyVersionsResp struct {
	KeyVersions struct {
		KeyVersion []wireKeyVersion `json:"KeyVersion"`
	} `json:"KeyVersions"`
	TotalCount int `json:"TotalCount"`
	PageNumber int `json:"PageNumber"`
	PageSize   int `json:"PageSize"`
	meta
}

type wireAlias struct {
	AliasName string `json:"AliasName"`
	AliasArn  string `json:"AliasArn"`
	KeyId     string `json:"KeyId"`
}

type listAliasesResp struct {
	Aliases struct {
		Alias []wireAlias `json:"Alias"`
	} `json:"Aliases"`
	TotalCount int `json:"TotalCount"`
	PageNumber int `json:"PageNumber"`
	PageSize   int `json:"PageSize"`
	meta
}

// dataKeyResp serves GenerateDataKey(WithoutPlaintext), Encrypt, Decrypt and
// ReEncrypt; absent fields are omitted. Plaintext and CiphertextBlob are
// standard base64.
type dataKeyResp struct {
	KeyId          string `json:"KeyId"`
	KeyVersionId   string `json:"KeyVersionId"`
	Plaintext      string `json:"Plaintext,omitempty"`
	CiphertextBlob string `json:"CiphertextBlob,omitempty"`
	meta
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Operations.

func createKey(ctx context.Context, api kms.API, p params) (response, error) {
	if e := p.unsupported("DKMSInstanceId", "Policy", "Tags"); e != nil {
		return nil, e
	}
	rotate, e := p.optBool("EnableAutomaticRotation")
	if e != nil {
		return nil, e
	}
	m, err := api.CreateKey(ctx, kms.CreateKeyInput{
		Description:             p["Description"],
		KeySpec:                 p["KeySpec"],
		KeyUsage:                p["KeyUsage"],
		Origin:                  p["Origin"],
		ProtectionLevel:         p["ProtectionLevel"],
		EnableAutomaticRotation: rotate,
		RotationInterval:        p["RotationInterval"],
	})
	if err != nil {
		return nil, err
	}
	return &keyMetadataResp{KeyMetadata: toWireKeyMetadata(m)}, nil
}

func describeKey(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	m, err := api.DescribeKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return &keyMetadataResp{KeyMetadata: toWireKeyMetadata(m)}, nil
}

func listKeys(ctx context.Context, api kms.API, p params) (response, error) {
	if e := p.unsupported("Filters"); e != nil {
		return nil, e
	}
	pg, e := p.page()
	if e != nil {
		return nil, e
	}
	out, err := api.ListKeys(ctx, pg)
	if err != nil {
		return nil, err
	}
	r := &listKeysResp{TotalCount: out.TotalCount, PageNumber: out.PageNumber, PageSize: out.PageSize}
	r.Keys.Key = make([]wireKeyRef, len(out.Keys))
	for i, k := range out.Keys {
		r.Keys.Key[i] = wireKeyRef{KeyId: k.KeyId, KeyArn: k.KeyArn}
	}
	return r, nil
}

func updateKeyDescription(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	desc, ok := p["Description"]
	if !ok {
		return nil, errMissing("Description")
	}
	if err := api.UpdateKeyDescription(ctx, id, desc); err != nil {
		return nil, err
	}
	return &emptyResp{}, nil
}

// keyOnly serves an operation whose only parameter is KeyId.
func keyOnly(op func(kms.API, context.Context, string) error) func(context.Context, kms.API, params) (response, error) {
	return func(ctx context.Context, api kms.API, p params) (response, error) {
		id, e := p.required("KeyId")
		if e != nil {
			return nil, e
		}
		if err := op(api, ctx, id); err != nil {
			return nil, err
		}
		return &emptyResp{}, nil
	}
}

func scheduleKeyDeletion(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	days, e := p.requiredInt("PendingWindowInDays")
	if e != nil {
		return nil, e
	}
	if err := api.ScheduleKeyDeletion(ctx, id, days); err != nil {
		return nil, err
	}
	return &emptyResp{}, nil
}

func createKeyVersion(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	v, err := api.CreateKeyVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	return &keyVersionResp{KeyVersion: toWireKeyVersion(v)}, nil
}

func listKeyVersions(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	pg, e := p.page()
	if e != nil {
		return nil, e
	}
	out, err := api.ListKeyVersions(ctx, id, pg)
	if err != nil {
		return nil, err
	}
	r := &listKeyVersionsResp{TotalCount: out.TotalCount, PageNumber: out.PageNumber, PageSize: out.PageSize}
	r.KeyVersions.KeyVersion = make([]wireKeyVersion, len(out.KeyVersions))
	for i, v := range out.KeyVersions {
		r.KeyVersions.KeyVersion[i] = toWireKeyVersion(v)
	}
	return r, nil
}

func describeKeyVersion(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	vid, e := p.required("KeyVersionId")
	if e != nil {
		return nil, e
	}
	v, err := api.DescribeKeyVersion(ctx, id, vid)
	if err != nil {
		return nil, err
	}
	return &keyVersionResp{KeyVersion: toWireKeyVersion(v)}, nil
}

func updateRotationPolicy(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	enable, e := p.requiredBool("EnableAutomaticRotation")
	if e != nil {
		return nil, e
	}
	if err := api.UpdateRotationPolicy(ctx, id, enable, p["RotationInterval"]); err != nil {
		return nil, err
	}
	return &emptyResp{}, nil
}

// aliasToKey serves CreateAlias and UpdateAlias.
func aliasToKey(op func(kms.API, context.Context, string, string) error) func(context.Context, kms.API, params) (response, error) {
	return func(ctx context.Context, api kms.API, p params) (response, error) {
		name, e := p.required("AliasName")
		if e != nil {
			return nil, e
		}
		id, e := p.required("KeyId")
		if e != nil {
			return nil, e
		}
		if err := op(api, ctx, name, id); err != nil {
			return nil, err
		}
		return &emptyResp{}, nil
	}
}

func deleteAlias(ctx context.Context, api kms.API, p params) (response, error) {
	name, e := p.required("AliasName")
	if e != nil {
		return nil, e
	}
	if err := api.DeleteAlias(ctx, name); err != nil {
		return nil, err
	}
	return &emptyResp{}, nil
}

func aliasesResp(out kms.ListAliasesOutput) *listAliasesResp {
	r := &listAliasesResp{TotalCount: out.TotalCount, PageNumber: out.PageNumber, PageSize: out.PageSize}
	r.Aliases.Alias = make([]wireAlias, len(out.Aliases))
	for i, a := range out.Aliases {
		r.Aliases.Alias[i] = wireAlias{AliasName: a.AliasName, AliasArn: a.AliasArn, KeyId: a.KeyId}
	}
	return r
}

func listAliases(ctx context.Context, api kms.API, p params) (response, error) {
	pg, e := p.page()
	if e != nil {
		return nil, e
	}
	out, err := api.ListAliases(ctx, pg)
	if err != nil {
		return nil, err
	}
	return aliasesResp(out), nil
}

func listAliasesByKeyID(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	pg, e := p.page()
	if e != nil {
		return nil, e
	}
	out, err := api.ListAliasesByKeyID(ctx, id, pg)
	if err != nil {
		return nil, err
	}
	return aliasesResp(out), nil
}

func generateDataKey(withoutPlaintext bool) func(context.Context, kms.API, params) (response, error) {
	return func(ctx context.Context, api kms.API, p params) (response, error) {
		id, e := p.required("KeyId")
		if e != nil {
			return nil, e
		}
		n, e := p.optInt("NumberOfBytes")
		if e != nil {
			return nil, e
		}
		if n == 0 && p["NumberOfBytes"] != "" {
			// kms reads 0 as "not given" (then 32 bytes); a given 0 is out of 1..1024.
			return nil, errInvalid("NumberOfBytes", "it must be between 1 and 1024")
		}
		ec, e := p.context("EncryptionContext")
		if e != nil {
			return nil, e
		}
		in := kms.GenerateDataKeyInput{KeyId: id, KeySpec: p["KeySpec"], NumberOfBytes: n, EncryptionContext: ec}
		var out kms.GenerateDataKeyOutput
		var err error
		if withoutPlaintext {
			out, err = api.GenerateDataKeyWithoutPlaintext(ctx, in)
		} else {
			out, err = api.GenerateDataKey(ctx, in)
		}
		if err != nil {
			return nil, err
		}
		r := &dataKeyResp{KeyId: out.KeyId, KeyVersionId: out.KeyVersionId, CiphertextBlob: b64(out.CiphertextBlob)}
		if !withoutPlaintext {
			r.Plaintext = b64(out.Plaintext)
		}
		return r, nil
	}
}

func encrypt(ctx context.Context, api kms.API, p params) (response, error) {
	id, e := p.required("KeyId")
	if e != nil {
		return nil, e
	}
	pt, e := p.base64Value("Plaintext")
	if e != nil {
		return nil, e
	}
	ec, e := p.context("EncryptionContext")
	if e != nil {
		return nil, e
	}
	out, err := api.Encrypt(ctx, kms.EncryptInput{KeyId: id, Plaintext: pt, EncryptionContext: ec})
	if err != nil {
		return nil, err
	}
	return &dataKeyResp{KeyId: out.KeyId, KeyVersionId: out.KeyVersionId, CiphertextBlob: b64(out.CiphertextBlob)}, nil
}

func decrypt(ctx context.Context, api kms.API, p params) (response, error) {
	blob, e := p.base64Value("CiphertextBlob")
	if e != nil {
		return nil, e
	}
	ec, e := p.context("EncryptionContext")
	if e != nil {
		return nil, e
	}
	out, err := api.Decrypt(ctx, kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
	if err != nil {
		return nil, err
	}
	return &dataKeyResp{KeyId: out.KeyId, KeyVersionId: out.KeyVersionId, Plaintext: b64(out.Plaintext)}, nil
}

func reEncrypt(ctx context.Context, api kms.API, p params) (response, error) {
	if e := p.unsupported("SourceKeyId", "SourceKeyVersionId", "SourceEncryptionAlgorithm"); e != nil {
		return nil, e
	}
	blob, e := p.base64Value("CiphertextBlob")
	if e != nil {
		return nil, e
	}
	dst, e := p.required("DestinationKeyId")
	if e != nil {
		return nil, e
	}
	src, e := p.context("SourceEncryptionContext")
	if e != nil {
		return nil, e
	}
	dctx, e := p.context("DestinationEncryptionContext")
	if e != nil {
		return nil, e
	}
	out, err := api.ReEncrypt(ctx, kms.ReEncryptInput{
		CiphertextBlob:               blob,
		SourceEncryptionContext:      src,
		DestinationKeyId:             dst,
		DestinationEncryptionContext: dctx,
	})
	if err != nil {
		return nil, err
	}
	return &dataKeyResp{KeyId: out.KeyId, KeyVersionId: out.KeyVersionId, CiphertextBlob: b64(out.CiphertextBlob)}, nil
}
