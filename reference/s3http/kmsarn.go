package s3http

import "strings"

// An AWS client names a KMS key in x-amz-server-side-encryption-aws-kms-key-id
// or KMSMasterKeyID by key id, alias, key ARN or alias ARN. The emulator
// takes ids, aliases and its own acs: ARNs, so an AWS KMS ARN
// (arn:<partition>:kms:<region>:<account>:key/<id> or .../alias/<name>) is
// rewritten to the acs: ARN with the same region, account and resource: the
// emulator then checks region and account as for any ARN, and the key is the
// one the AWS KMS endpoint (awskmshttp) gives that ARN. Other values pass
// unchanged.
func fromAWSKeyARN(ref string) string {
	rest, ok := strings.CutPrefix(ref, "arn:")
	if !ok {
		return ref
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) != 5 || !strings.HasPrefix(parts[0], "aws") || parts[1] != "kms" {
		return ref
	}
	return "acs:kms:" + parts[2] + ":" + parts[3] + ":" + parts[4]
}

// toAWSKeyARN undoes fromAWSKeyARN for GetBucketEncryption, so an S3 client
// reads back the ARN form it wrote (OSS reads the acs: form of the same
// rule).
func toAWSKeyARN(ref string) string {
	rest, ok := strings.CutPrefix(ref, "acs:kms:")
	if !ok {
		return ref
	}
	return "arn:aws:kms:" + rest
}

// keyARN is the AWS ARN of the key the store resolved, id, in the
// handler's region and KMS account: the ARN awskmshttp gives the same key
// (its region is the server's region, its account the emulator's). An acs:
// ARN becomes its AWS form; an AWS ARN is returned as is.
func (h *handler) keyARN(id string) string {
	switch {
	case strings.HasPrefix(id, "arn:"):
		return id
	case strings.HasPrefix(id, "acs:kms:"):
		return toAWSKeyARN(id)
	}
	return "arn:aws:kms:" + h.cfg.Region + ":" + h.cfg.KMSAccount + ":key/" + id
}
