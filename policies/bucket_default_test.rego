package sseaudit.bucket_default_test

import data.sseaudit.bucket_default
import data.sseaudit.fixtures as fx

found(id, inp) := {f | fs := bucket_default.deny with input as inp; some f in fs; f.rule == id}

one(id, inp) := f if {
	fs := found(id, inp)
	count(fs) == 1
	some f in fs
}

byok := fx.profile({"name": "byok", "allowed_methods": ["kms-cmk"], "require_customer_cmk": true, "allowed_algorithms": ["AES256"]})

# SSE-001 ---------------------------------------------------------------

test_sse001_compliant_default_set if {
	count(found("SSE-001", fx.bucket_input(fx.bucket(fx.rule_aes, fx.good_objects)))) == 0
}

test_sse001_compliant_rule_unreadable_is_not_a_pass_or_a_fail if {
	b := object.union(fx.bucket(null, []), {"encryption_error": {"scope": "rule", "resource": "b1", "status_code": 403, "code": "AccessDenied", "message": "denied"}})
	count(found("SSE-001", fx.bucket_input(b))) == 0
}

test_sse001_violation_no_default if {
	fs := found("SSE-001", fx.bucket_input(fx.bucket(null, fx.good_objects)))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "bucket", "bucket": "b1", "region": "cn-hangzhou"}
	f.observed.default_encryption == null
	f.evidence[0].source == "GetBucketEncryption"
}

# SSE-002 ---------------------------------------------------------------

test_sse002_compliant_default_profile_any_encryption if {
	every r in [fx.rule_aes, fx.rule_svc, fx.rule_cmk, fx.rule_sm4] {
		count(found("SSE-002", fx.bucket_input(fx.bucket(r, [])))) == 0
	}
}

test_sse002_compliant_byok_with_cmk if {
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), byok)
	count(found("SSE-002", inp)) == 0
}

test_sse002_compliant_cmk_on_allowed_list_by_arn if {
	p := object.union(byok, {"allowed_cmk_ids": [fx.keys[fx.cmk].arn]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), p)
	count(found("SSE-002", inp)) == 0
}

test_sse002_compliant_no_default_is_sse001_only if {
	inp := fx.with_profile(fx.bucket_input(fx.bucket(null, [])), byok)
	count(found("SSE-002", inp)) == 0
}

test_sse002_violation_sm4_when_aes256_required if {
	p := fx.profile({"allowed_algorithms": ["AES256"]})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_sm4, [])), p))
	count(fs) == 1
	some f in fs
	f.observed.cipher == "SM4"
	f.observed.reasons == ["cipher SM4 is not allowed"]
}

test_sse002_violation_kms_with_sm4_data_encryption if {
	p := fx.profile({"allowed_algorithms": ["AES256"]})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_kms_sm4, [])), p))
	count(fs) == 1
}

test_sse002_violation_service_key_when_cmk_required if {
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_svc, [])), byok))
	count(fs) == 1
	some f in fs
	"a customer CMK is required, the default uses the service key (alias/acs/oss)" in f.observed.reasons
	"method kms-default is not allowed" in f.observed.reasons
}

test_sse002_violation_cmk_id_is_the_service_key if {
	p := fx.profile({"require_customer_cmk": true})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk_with(fx.svc_key), [])), p))
	count(fs) == 1
}

test_sse002_violation_cmk_not_on_allowed_list if {
	p := object.union(byok, {"allowed_cmk_ids": [fx.cmk2]})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), p))
	count(fs) == 1
	some f in fs
	f.observed.reasons == [sprintf("CMK %s is not on the allowed list", [fx.cmk])]
}

test_sse002_violation_method_not_allowed if {
	p := fx.profile({"allowed_methods": ["kms-default", "kms-cmk"]})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_aes, [])), p))
	count(fs) == 1
}

# SSE-003 ---------------------------------------------------------------

test_sse003_compliant_enabled_cmk if {
	count(found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk, [])))) == 0
}

test_sse003_compliant_service_key_and_sse_oss if {
	count(found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_svc, [])))) == 0
	count(found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_aes, [])))) == 0
}

test_sse003_compliant_undescribed_key_is_coverage_not_sse003 if {
	count(found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with("never-seen"), [])))) == 0
}

test_sse003_violation_disabled if {
	fs := found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with("disabled-key"), [])))
	count(fs) == 1
	some f in fs
	f.observed.problem == "disabled"
}

# An S3 default may name its key by ARN; the record is under the key's id.
test_sse003_compliant_enabled_cmk_by_s3_arn if {
	count(found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with(fx.s3_arn(fx.cmk)), [])))) == 0
}

test_sse003_violation_disabled_by_s3_arn if {
	fs := found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with(fx.s3_arn("disabled-key")), [])))
	count(fs) == 1
	some f in fs
	f.observed.problem == "disabled"
}

test_sse003_violation_pending_deletion if {
	fs := found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with("pending-key"), [])))
	count(fs) == 1
	some f in fs
	f.observed.problem == "pending deletion"
}

test_sse003_violation_missing if {
	fs := found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with("gone-key"), [])))
	count(fs) == 1
}

test_sse003_violation_other_region if {
	fs := found("SSE-003", fx.bucket_input(fx.bucket(fx.rule_cmk_with("shanghai-key"), [])))
	count(fs) == 1
	some f in fs
	f.observed.problem == "in region cn-shanghai, not the bucket's region cn-hangzhou"
}

# Key references compared after resolution (SSE-002) ----------------------

test_sse002_compliant_allowed_alias_default_names_bare_id if {
	# The allow-list names the key by alias; the default names it by id.
	p := object.union(byok, {"allowed_cmk_ids": ["alias/finance"]})
	count(found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), p))) == 0
}

test_sse002_compliant_allowed_bare_id_default_names_alias if {
	p := object.union(byok, {"allowed_cmk_ids": [fx.cmk]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk_with("alias/finance"), [])), p)
	count(found("SSE-002", inp)) == 0
}

test_sse002_compliant_allowed_arn_default_names_alias if {
	p := object.union(byok, {"allowed_cmk_ids": [fx.cmk_arn]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk_with("alias/finance"), [])), p)
	count(found("SSE-002", inp)) == 0
}

test_sse002_compliant_allowed_bare_id_default_names_s3_arn if {
	# An S3 key ARN with no key record: the id inside the ARN is compared.
	p := object.union(byok, {"allowed_cmk_ids": ["12345678-0000-0000-0000-000000000000"]})
	r := fx.rule_cmk_with("arn:aws:kms:us-east-1:111122223333:key/12345678-0000-0000-0000-000000000000")
	count(found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(r, [])), p))) == 0
}

test_sse002_violation_alias_of_another_key if {
	p := object.union(byok, {"allowed_cmk_ids": ["alias/finance"]})
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk_with(fx.cmk2), [])), p))
	count(fs) == 1
	some f in fs
	f.observed.reasons == [sprintf("CMK %s is not on the allowed list", [fx.cmk2])]
}

test_sse002_violation_alias_that_resolves_nowhere if {
	# An allowed alias the scan found missing in the region allows nothing.
	p := object.union(byok, {"allowed_cmk_ids": ["alias/nowhere"]})
	count(found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), p))) == 1
}

test_sse002_violation_missing_method_is_not_a_pass if {
	r := object.remove(fx.rule_cmk, ["method"])
	fs := found("SSE-002", fx.with_profile(fx.bucket_input(fx.bucket(r, [])), byok))
	count(fs) == 1
	some f in fs
	"method (missing) is not allowed" in f.observed.reasons
}

# A DSSE-KMS default (method "other") names a key like SSE-KMS does.
rule_dsse(id) := {"algorithm": "aws:kms:dsse", "kms_master_key_id": id, "method": "other"}

test_sse002_violation_dsse_default_outside_list if {
	p := fx.profile({"allowed_cmk_ids": [fx.cmk]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(rule_dsse(fx.cmk2), [])), p)
	fs := found("SSE-002", inp)
	count(fs) == 1
	some f in fs
	contains(concat(" ", f.observed.reasons), fx.cmk2)
}

test_sse003_violation_dsse_default_disabled_key if {
	count(found("SSE-003", fx.bucket_input(fx.bucket(rule_dsse("disabled-key"), [])))) == 1
}

# SSE-024 ---------------------------------------------------------------

test_sse024_compliant_blocked_or_unknown if {
	count(found("SSE-024", fx.bucket_input(object.union(fx.bucket(fx.rule_aes, []), {"ssec_blocked": true})))) == 0
	count(found("SSE-024", fx.bucket_input(fx.bucket(fx.rule_aes, [])))) == 0
}

test_sse024_compliant_profile_allows_ssec if {
	p := fx.profile({"allowed_methods": ["oss-managed", "kms-default", "kms-cmk", "sse-c", "other"]})
	inp := fx.with_profile(fx.bucket_input(object.union(fx.bucket(fx.rule_aes, []), {"ssec_blocked": false})), p)
	count(found("SSE-024", inp)) == 0
}

test_sse024_violation_allowed if {
	f := one("SSE-024", fx.bucket_input(object.union(fx.bucket(fx.rule_aes, []), {"ssec_blocked": false})))
	f.resource.type == "bucket"
	f.observed.ssec_blocked == false
	contains(f.message, "BlockedEncryptionTypes NONE")
}
