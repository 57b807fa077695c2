package reports

import (
	"strings"

	"github.com/sseaudit/sseaudit/snapshot"
)

// The target's own vocabulary. The snapshot normalises encryption to a
// method (snapshot.Method*) whose names come from OSS; a person reading a
// report about an S3 store expects AWS's words, and one about OSS
// Alibaba Cloud's. Reports say a method through EncryptionLabel, never by
// its snapshot name.

// Dialects of a target, as the snapshot records them.
const (
	DialectOSS = "oss"
	DialectS3  = "s3"
)

// EncryptionLabel names an encryption state in the words of the target's
// dialect: for S3, SSE-S3, SSE-KMS (AWS managed key or customer managed
// key) and DSSE-KMS; for OSS, SSE-OSS (AES256 or SM4) and SSE-KMS (KMS
// service key or customer CMK, with SM4 when the data is SM4-encrypted).
// algorithm is the SSE algorithm as the endpoint said it and dataEnc OSS's
// data encryption (SM4); both may be empty. Another dialect gets neutral
// words.
func EncryptionLabel(dialect, method, algorithm, dataEnc string) string {
	alg := strings.ToUpper(algorithm)
	dsse := strings.Contains(alg, "DSSE")
	sm4 := alg == "SM4" || strings.EqualFold(dataEnc, "SM4")
	switch method {
	case "", snapshot.MethodUnknown:
		return "unknown"
	case snapshot.MethodNone:
		return "not encrypted"
	case snapshot.MethodSSEC:
		return "SSE-C (customer-provided key)"
	}
	switch dialect {
	case DialectS3:
		kms := "SSE-KMS"
		if dsse {
			kms = "DSSE-KMS"
		}
		switch method {
		case snapshot.MethodOSSManaged:
			return "SSE-S3"
		case snapshot.MethodKMSDefault:
			return kms + " (AWS managed key)"
		case snapshot.MethodKMSCMK:
			return kms + " (customer managed key)"
		}
		if dsse {
			return "DSSE-KMS"
		}
	case DialectOSS:
		suffix := ""
		if sm4 {
			suffix = ", SM4"
		}
		switch method {
		case snapshot.MethodOSSManaged:
			return "SSE-OSS (AES256)"
		case snapshot.MethodKMSDefault:
			return "SSE-KMS (KMS service key" + suffix + ")"
		case snapshot.MethodKMSCMK:
			return "SSE-KMS (customer CMK" + suffix + ")"
		}
		if alg == "SM4" {
			return "SSE-OSS (SM4)"
		}
	default:
		switch method {
		case snapshot.MethodOSSManaged:
			return "service-managed keys"
		case snapshot.MethodKMSDefault:
			return "KMS (service key)"
		case snapshot.MethodKMSCMK:
			return "KMS (customer key)"
		}
	}
	if algorithm != "" {
		return "other (" + algorithm + ")"
	}
	return "other"
}

// dialectName is a dialect as a badge says it.
func dialectName(d string) string {
	switch d {
	case DialectS3:
		return "S3"
	case DialectOSS:
		return "OSS"
	}
	return d
}

// targetBadges are the labels of a target's badges, each once: the
// dialect in its own name, then the kind of target when it says more
// (an "s3" target of dialect s3 is one badge, not two).
func targetBadges(kind, dialect string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, x := range out {
			if strings.EqualFold(x, s) {
				return
			}
		}
		out = append(out, s)
	}
	add(dialectName(dialect))
	switch kind {
	case "reference":
		add("embedded reference")
	case dialect:
	default:
		add(dialectName(kind))
	}
	return out
}
