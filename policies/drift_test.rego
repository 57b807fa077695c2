package sseaudit.drift_test

import data.sseaudit.drift
import data.sseaudit.fixtures as fx

found(id, inp) := {f | fs := drift.deny with input as inp; some f in fs; f.rule == id}

one(id, inp) := f if {
	fs := found(id, inp)
	count(fs) == 1
	some f in fs
}

before := fx.obj("x.bin", "none", "")

# after re-encryption by the storage itself: same ETag and LastModified.
silently_encrypted := object.union(before, {"sse": "KMS", "kms_key_id": fx.cmk, "method": "kms-cmk"})

rewritten := object.union(silently_encrypted, {"etag": "\"etag-new\"", "last_modified": fx.t_mid})

# inp(prev default, current default, prev objects, current objects)
inp(prev_rule, cur_rule, prev_objs, cur_objs) := fx.with_previous(
	fx.bucket_input(fx.bucket(cur_rule, cur_objs)),
	fx.prev_bucket(prev_rule, prev_objs),
)

test_sse007_compliant_no_previous_snapshot if {
	count(found("SSE-007", fx.bucket_input(fx.bucket(fx.rule_cmk, [silently_encrypted])))) == 0
}

test_sse007_compliant_default_changed_objects_untouched if {
	count(found("SSE-007", inp(null, fx.rule_cmk, [before], [before]))) == 0
}

test_sse007_compliant_without_change_of_default if {
	count(found("SSE-007", inp(fx.rule_cmk, fx.rule_cmk, [before], [silently_encrypted]))) == 0
}

test_sse007_compliant_object_rewritten if {
	count(found("SSE-007", inp(null, fx.rule_cmk, [before], [rewritten]))) == 0
}

test_sse007_compliant_new_and_deleted_objects if {
	count(found("SSE-007", inp(null, fx.rule_cmk, [before], [fx.obj("new.bin", "kms-cmk", fx.cmk)]))) == 0
}

test_sse007_violation_encryption_changed_without_rewrite if {
	f := one("SSE-007", inp(null, fx.rule_cmk, [before], [silently_encrypted]))
	f.resource.key == "x.bin"
	f.observed.change == "encryption state changed while ETag and LastModified stayed the same"
	f.observed.previous.method == "none"
	f.observed.current.method == "kms-cmk"
	startswith(f.message, "storage conformance failure")
	f.evidence[0].data.scan.scan_id == "scan-1"
}

test_sse007_violation_default_removed_decrypts_objects if {
	f := one("SSE-007", inp(fx.rule_cmk, null, [silently_encrypted], [before]))
	f.observed.default_after == null
}

test_sse007_violation_etag_changed_without_write if {
	touched := object.union(before, {"etag": "\"etag-other\""})
	f := one("SSE-007", inp(fx.rule_aes, fx.rule_cmk, [before], [touched]))
	f.observed.change == "ETag changed while LastModified stayed the same"
}

test_sse007_violation_last_modified_backwards if {
	older := object.union(before, {"last_modified": fx.t_created})
	f := one("SSE-007", inp(null, fx.rule_aes, [before], [older]))
	f.observed.change == "LastModified moved backwards"
}

test_sse007_same_instant_in_other_notation_is_unchanged if {
	same := object.union(before, {"last_modified": "2024-02-01T18:00:00+08:00"})
	count(found("SSE-007", inp(null, fx.rule_aes, [before], [same]))) == 0
}

# A remediation rewrite ('sseaudit remediate apply') within the same
# second: encryption and ETag change while LastModified stays the same.
remediated := object.union(before, {"sse": "AES256", "method": "oss-managed", "etag": "\"etag-remediated\""})

journalled := fx.rewrite(before, remediated)

test_sse007_compliant_journalled_remediation if {
	count(found("SSE-007", fx.with_rewrites(inp(null, fx.rule_aes, [before], [remediated]), [journalled]))) == 0
}

test_sse007_compliant_journalled_remediation_same_etag if {
	same := object.union(before, {"sse": "AES256", "method": "oss-managed"})
	count(found("SSE-007", fx.with_rewrites(inp(null, fx.rule_aes, [before], [same]), [fx.rewrite(before, same)]))) == 0
}

test_sse007_violation_unjournalled_change_beside_a_remediation if {
	other := fx.obj("y.bin", "none", "")
	other_after := object.union(other, {"sse": "KMS", "kms_key_id": fx.cmk, "method": "kms-cmk"})
	f := one("SSE-007", fx.with_rewrites(inp(null, fx.rule_aes, [before, other], [remediated, other_after]), [journalled]))
	f.resource.key == "y.bin"
}

test_sse007_violation_object_not_in_the_journalled_after_state if {
	# Journalled to AES256, found under KMS: not the rewrite's result.
	drifted := object.union(remediated, {"sse": "KMS", "kms_key_id": fx.cmk, "method": "kms-cmk"})
	f := one("SSE-007", fx.with_rewrites(inp(null, fx.rule_aes, [before], [drifted]), [journalled]))
	f.resource.key == "x.bin"
}

test_sse007_violation_rewrite_journalled_from_another_state if {
	# The journal's before is not the previous snapshot's object.
	other_before := object.union(before, {"etag": "\"etag-else\""})
	f := one("SSE-007", fx.with_rewrites(inp(null, fx.rule_aes, [before], [remediated]), [fx.rewrite(other_before, remediated)]))
	f.resource.key == "x.bin"
}

# S3 names an object's key by ARN: a snapshot that recorded the bare id
# and one that recorded the ARN of the same key see the same state.
test_sse007_compliant_key_named_by_arn_then_by_id if {
	by_id := fx.obj("k.bin", "kms-cmk", fx.cmk)
	by_arn := object.union(by_id, {"kms_key_id": fx.s3_arn(fx.cmk)})
	count(found("SSE-007", inp(fx.rule_aes, fx.rule_cmk, [by_id], [by_arn]))) == 0
	count(found("SSE-007", inp(fx.rule_aes, fx.rule_cmk, [by_arn], [by_id]))) == 0
}

test_sse007_violation_key_changed_to_another_keys_arn if {
	by_id := fx.obj("k.bin", "kms-cmk", fx.cmk)
	other := object.union(by_id, {"kms_key_id": fx.s3_arn(fx.cmk2)})
	f := one("SSE-007", inp(fx.rule_aes, fx.rule_cmk, [by_id], [other]))
	f.observed.change == "encryption state changed while ETag and LastModified stayed the same"
}

# A default re-written to name the same key by ARN is not a change of the
# default.
test_sse007_compliant_default_renames_its_key_by_arn if {
	count(found("SSE-007", inp(fx.rule_cmk, fx.rule_cmk_with(fx.s3_arn(fx.cmk)), [before], [silently_encrypted]))) == 0
}

test_sse007_violation_default_names_another_keys_arn if {
	f := one("SSE-007", inp(fx.rule_cmk, fx.rule_cmk_with(fx.s3_arn(fx.cmk2)), [before], [silently_encrypted]))
	f.resource.key == "x.bin"
}
