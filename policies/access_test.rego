package sseaudit.access_test

import data.sseaudit.access
import data.sseaudit.fixtures as fx
import data.sseaudit.public_objects

found(id, inp) := {f | fs := access.deny with input as inp; some f in fs; f.rule == id}

found_objects(id, inp) := {f | fs := public_objects.deny with input as inp; some f in fs; f.rule == id}

acl_private := {"canned": "private", "public_read": false, "public_write": false}

acl_public := {"canned": "public-read", "public_read": true, "public_write": false}

acl_rw := {"canned": "public-read-write", "public_read": true, "public_write": true}

policy_none := {"status": "none", "denies_unencrypted_put": false, "denies_insecure_transport": false, "allows_public_read": false}

policy_unknown := object.union(policy_none, {"status": "unknown", "note": "the endpoint does not implement bucket policies"})

policy(facts) := object.union(object.union(policy_none, {"status": "set", "raw": "{}"}), facts)

# with_access(b, acl, policy): bucket b with these access settings.
with_access(b, acl, pol) := object.union(b, {"acl": acl, "policy": pol})

unencrypted := [fx.obj("plain.txt", "none", ""), fx.obj("old.txt", "none", ""), fx.obj("enc.txt", "kms-cmk", fx.cmk)]

s3_input(b) := object.union(fx.bucket_input(b), {"provenance": object.union(fx.provenance, {"target": {"kind": "s3", "dialect": "s3", "endpoint": "e"}})})

# SSE-017 ---------------------------------------------------------------

test_sse017_compliant_private_bucket_with_unencrypted_objects if {
	count(found_objects("SSE-017", fx.bucket_input(with_access(fx.bucket(null, unencrypted), acl_private, policy_none)))) == 0
}

test_sse017_compliant_public_bucket_all_encrypted if {
	count(found_objects("SSE-017", fx.bucket_input(with_access(fx.bucket(fx.rule_cmk, fx.good_objects), acl_public, policy_none)))) == 0
}

test_sse017_compliant_snapshot_without_access_settings if {
	count(found_objects("SSE-017", fx.bucket_input(fx.bucket(null, unencrypted)))) == 0
}

test_sse017_compliant_failed_head_is_coverage if {
	broken := object.union(fx.obj("x", "none", ""), {"error": {"scope": "object", "resource": "b1/x", "message": "m"}})
	count(found_objects("SSE-017", fx.bucket_input(with_access(fx.bucket(null, [broken]), acl_public, policy_none)))) == 0
}

test_sse017_violation_public_read_acl if {
	fs := found_objects("SSE-017", fx.bucket_input(with_access(fx.bucket(null, unencrypted), acl_public, policy_none)))
	count(fs) == 2
	keys := {f.resource.key | some f in fs}
	keys == {"plain.txt", "old.txt"}
	some f in fs
	f.observed.bucket_acl == "public-read"
	f.observed.exposure == ["the bucket ACL (public-read) lets anyone read"]
	contains(f.message, "on OSS anyone may read")
	f.evidence[1].source == "GetBucketAcl"
}

test_sse017_violation_policy_allows_public_read_on_s3 if {
	b := with_access(fx.bucket(null, unencrypted), acl_private, policy({"allows_public_read": true}))
	fs := found_objects("SSE-017", s3_input(b))
	count(fs) == 2
	some f in fs
	f.observed.exposure == ["the bucket policy lets anyone read its objects"]
	contains(f.message, "on S3")
}

test_sse017_violation_custom_grants if {
	acl := {"canned": "", "public_read": true, "public_write": false, "grants": [{"type": "Group", "id": "http://acs.amazonaws.com/groups/global/AllUsers", "permission": "READ"}]}
	fs := found_objects("SSE-017", s3_input(with_access(fx.bucket(null, [fx.obj("a", "none", "")]), acl, policy_none)))
	count(fs) == 1
	some f in fs
	f.observed.exposure == ["the bucket ACL (custom grants) lets anyone read"]
}

# SSE-018 ---------------------------------------------------------------

test_sse018_compliant_private if {
	count(found("SSE-018", fx.bucket_input(with_access(fx.bucket(fx.rule_cmk, fx.good_objects), acl_private, policy_unknown)))) == 0
}

test_sse018_compliant_not_read if {
	count(found("SSE-018", fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)))) == 0
}

test_sse018_violation_public_even_when_encrypted if {
	fs := found("SSE-018", fx.bucket_input(with_access(fx.bucket(fx.rule_cmk, fx.good_objects), acl_public, policy_none)))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "bucket", "bucket": "b1", "region": "cn-hangzhou"}
	f.observed.public_read == true
	f.observed.public_write == false
	f.observed.unencrypted_objects == 0
	f.observed.objects == 2
	contains(f.message, "server-side encryption does not protect against this")
}

test_sse018_violation_public_write_counts_unencrypted if {
	fs := found("SSE-018", fx.bucket_input(with_access(fx.bucket(null, unencrypted), acl_rw, policy_none)))
	count(fs) == 1
	some f in fs
	f.observed.public_write == true
	f.observed.unencrypted_objects == 2
	count(f.observed.exposure) == 2
}

test_sse018_violation_counts_from_stats if {
	inp := object.union(fx.bucket_input(with_access(fx.bucket(null, []), acl_public, policy_none)), {"stats": {"objects": 5000, "by_method": {"none": 1234, "kms-cmk": 3766}, "by_kms_key": {}, "failed": 0, "failed_sample": []}})
	fs := found("SSE-018", inp)
	count(fs) == 1
	some f in fs
	f.observed.unencrypted_objects == 1234
	f.observed.objects == 5000
}

# SSE-019 ---------------------------------------------------------------

test_sse019_compliant_policy_and_default if {
	b := with_access(fx.bucket(fx.rule_cmk, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS"}))
	count(found("SSE-019", fx.bucket_input(b))) == 0
}

test_sse019_compliant_no_policy_is_sse001_only if {
	count(found("SSE-019", fx.bucket_input(with_access(fx.bucket(null, []), acl_private, policy_none)))) == 0
}

test_sse019_compliant_policy_unknown if {
	count(found("SSE-019", fx.bucket_input(with_access(fx.bucket(null, []), acl_private, policy_unknown)))) == 0
}

test_sse019_compliant_rule_unreadable if {
	b := object.union(with_access(fx.bucket(null, []), acl_private, policy({"denies_unencrypted_put": true})), {"encryption_error": {"scope": "rule", "resource": "b1", "message": "m"}})
	count(found("SSE-019", fx.bucket_input(b))) == 0
}

test_sse019_violation_policy_only if {
	b := with_access(fx.bucket(null, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk]}))
	fs := found("SSE-019", fx.bucket_input(b))
	count(fs) == 1
	some f in fs
	f.observed.policy_required_sse == "KMS"
	contains(f.message, sprintf("it requires KMS with key %s", [fx.cmk]))
	f.evidence[1].source == "GetBucketPolicy"
}

# SSE-020 ---------------------------------------------------------------

test_sse020_compliant_same_key if {
	b := with_access(fx.bucket(fx.rule_cmk, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk]}))
	count(found("SSE-020", fx.bucket_input(b))) == 0
}

test_sse020_compliant_same_key_by_arn if {
	b := with_access(fx.bucket(fx.rule_cmk, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk_arn]}))
	count(found("SSE-020", fx.bucket_input(b))) == 0
}

# S3: the policy names the key by ARN, the default by id, or the other way
# round; the same key either way.
test_sse020_compliant_same_key_by_s3_arn if {
	b := with_access(fx.bucket(fx.rule_cmk, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.s3_arn(fx.cmk)]}))
	count(found("SSE-020", fx.bucket_input(b))) == 0
	b2 := with_access(fx.bucket(fx.rule_cmk_with(fx.s3_arn(fx.cmk)), []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk]}))
	count(found("SSE-020", fx.bucket_input(b2))) == 0
}

test_sse020_compliant_any_algorithm if {
	b := with_access(fx.bucket(fx.rule_aes, []), acl_private, policy({"denies_unencrypted_put": true}))
	count(found("SSE-020", fx.bucket_input(b))) == 0
}

test_sse020_compliant_no_default_is_sse019s if {
	b := with_access(fx.bucket(null, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS"}))
	count(found("SSE-020", fx.bucket_input(b))) == 0
}

test_sse020_violation_kms_required_default_aes if {
	b := with_access(fx.bucket(fx.rule_aes, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS"}))
	fs := found("SSE-020", fx.bucket_input(b))
	count(fs) == 1
	some f in fs
	f.observed.reasons == ["the policy requires KMS, the default is AES256"]
	f.observed.default_algorithm == "AES256"
}

test_sse020_violation_other_key if {
	b := with_access(fx.bucket(fx.rule_cmk_with(fx.cmk2), []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk]}))
	fs := found("SSE-020", fx.bucket_input(b))
	count(fs) == 1
	some f in fs
	f.observed.reasons == [sprintf("the policy requires KMS key %s, the default uses key %s", [fx.cmk, fx.cmk2])]
}

test_sse020_violation_service_key_default if {
	b := with_access(fx.bucket(fx.rule_svc, []), acl_private, policy({"denies_unencrypted_put": true, "required_sse": "KMS", "required_kms_key_ids": [fx.cmk]}))
	fs := found("SSE-020", fx.bucket_input(b))
	count(fs) == 1
	some f in fs
	f.observed.reasons == [sprintf("the policy requires KMS key %s, the default uses the service key", [fx.cmk])]
}

# SSE-021 ---------------------------------------------------------------

test_sse021_compliant_read if {
	count(found("SSE-021", fx.bucket_input(with_access(fx.bucket(null, []), acl_private, policy_none)))) == 0
}

test_sse021_compliant_policy_not_implemented_is_a_note if {
	b := object.union(with_access(fx.bucket(null, []), acl_private, policy_unknown), {})
	count(found("SSE-021", fx.bucket_input(b))) == 0
}

test_sse021_compliant_acl_not_implemented if {
	b := object.union(fx.bucket(null, []), {"acl_error": {"scope": "acl", "resource": "b1", "status_code": 501, "code": "NotImplemented", "message": "m"}, "policy": policy_none})
	count(found("SSE-021", fx.bucket_input(b))) == 0
}

test_sse021_violation_denied if {
	denied := {"scope": "acl", "resource": "b1", "status_code": 403, "code": "AccessDenied", "message": "denied"}
	b := object.union(fx.bucket(null, []), {"acl_error": denied, "policy_error": object.union(denied, {"scope": "policy"})})
	fs := found("SSE-021", fx.bucket_input(b))
	count(fs) == 1
	some f in fs
	count(f.observed.gaps) == 2
	count(f.evidence) == 2
}

test_sse021_violation_unparsable_policy if {
	b := with_access(fx.bucket(null, []), acl_private, policy({"parse_error": "not a policy document"}))
	fs := found("SSE-021", fx.bucket_input(b))
	count(fs) == 1
}
