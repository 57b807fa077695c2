package sseaudit.objects_test

import data.sseaudit.fixtures as fx
import data.sseaudit.objects

found(id, inp) := {f | fs := objects.deny with input as inp; some f in fs; f.rule == id}

one(id, inp) := f if {
	fs := found(id, inp)
	count(fs) == 1
	some f in fs
}

plain := fx.obj("plain.txt", "none", "")

failed := object.union(fx.obj("failed.txt", "none", ""), {"error": {"scope": "object", "resource": "b1/failed.txt", "status_code": 500, "message": "boom"}})

# SSE-004 ---------------------------------------------------------------

test_sse004_compliant_all_encrypted if {
	count(found("SSE-004", fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)))) == 0
}

test_sse004_compliant_head_failed_is_coverage if {
	count(found("SSE-004", fx.bucket_input(fx.bucket(fx.rule_cmk, [failed])))) == 0
}

test_sse004_violation_no_default if {
	f := one("SSE-004", fx.bucket_input(fx.bucket(null, array.concat(fx.good_objects, [plain]))))
	f.resource == {"type": "object", "bucket": "b1", "region": "cn-hangzhou", "key": "plain.txt", "version_id": ""}
	f.observed.basis == "no_default"
	f.observed.written_before_default == null
}

test_sse004_violation_default_without_history if {
	f := one("SSE-004", fx.bucket_input(fx.bucket(fx.rule_cmk, [plain])))
	f.observed.basis == "none"
	contains(f.message, "most likely written before the default was set")
}

test_sse004_violation_written_before_default_by_history if {
	inp := fx.with_history(fx.bucket_input(fx.bucket(fx.rule_cmk, [plain])), fx.t_mid)
	f := one("SSE-004", inp)
	f.observed.written_before_default == true
	f.observed.basis == "history"
	contains(f.message, "written before the default was set")
}

test_sse004_violation_written_after_default_by_history if {
	inp := fx.with_history(fx.bucket_input(fx.bucket(fx.rule_cmk, [plain])), "2024-01-15T00:00:00Z")
	f := one("SSE-004", inp)
	f.observed.written_before_default == false
	contains(f.message, "the default was not applied to it")
}

test_sse004_violation_written_before_default_by_previous_snapshot if {
	inp := fx.with_previous(fx.bucket_input(fx.bucket(fx.rule_cmk, [plain])), fx.prev_bucket(null, [plain]))
	f := one("SSE-004", inp)
	f.observed.written_before_default == true
	f.observed.basis == "previous_snapshot"
}

test_sse004_violation_between_scans_is_undetermined if {
	late := object.union(plain, {"last_modified": fx.t_mid})
	inp := fx.with_previous(fx.bucket_input(fx.bucket(fx.rule_cmk, [late])), fx.prev_bucket(null, []))
	f := one("SSE-004", inp)
	f.observed.written_before_default == null
	f.observed.basis == "previous_snapshot"
}

test_sse004_violation_written_after_default_by_previous_snapshot if {
	late := object.union(plain, {"last_modified": fx.t_mid})
	inp := fx.with_previous(fx.bucket_input(fx.bucket(fx.rule_cmk, [late])), fx.prev_bucket(fx.rule_cmk, []))
	f := one("SSE-004", inp)
	f.observed.written_before_default == false
}

# SSE-005 ---------------------------------------------------------------

test_sse005_compliant_enabled_keys if {
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-default", fx.svc_key)]
	count(found("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))) == 0
}

test_sse005_compliant_undescribed_key_is_coverage if {
	objs := [fx.obj("a", "kms-cmk", "never-seen")]
	count(found("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))) == 0
}

test_sse005_violation_disabled_key if {
	objs := array.concat(fx.good_objects, [fx.obj("locked", "kms-cmk", "disabled-key")])
	f := one("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))
	f.resource.key == "locked"
	f.observed.problem == "disabled"
}

test_sse005_violation_pending_deletion if {
	f := one("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("x", "kms-cmk", "pending-key")])))
	f.observed.key_delete_date == "2024-06-08T00:00:00Z"
}

test_sse005_violation_key_gone if {
	f := one("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("x", "kms-cmk", "gone-key")])))
	startswith(f.observed.problem, "missing")
}

# SSE-006 ---------------------------------------------------------------

restricted := fx.profile({"name": "restricted", "allowed_cmk_ids": [fx.cmk]})

test_sse006_compliant_no_allowed_list if {
	objs := [fx.obj("a", "kms-cmk", fx.cmk2)]
	count(found("SSE-006", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))) == 0
}

test_sse006_compliant_allowed_key_and_service_key if {
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-default", fx.svc_key), fx.obj("c", "oss-managed", "")]
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), restricted)
	count(found("SSE-006", inp)) == 0
}

test_sse006_violation_cmk_outside_list if {
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-cmk", fx.cmk2)]
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), restricted)
	f := one("SSE-006", inp)
	f.resource.key == "b"
	f.observed.kms_key_id == fx.cmk2
}

# SSE-011 ---------------------------------------------------------------

old_plain := object.union(fx.obj("doc.txt", "none", ""), {"version_id": "v1", "noncurrent": true})

current_enc := object.union(fx.obj("doc.txt", "oss-managed", ""), {"version_id": "v2"})

test_sse011_compliant_no_versions if {
	count(found("SSE-011", fx.bucket_input(fx.bucket(fx.rule_cmk, [plain])))) == 0
}

test_sse011_compliant_noncurrent_encrypted if {
	old_enc := object.union(current_enc, {"version_id": "v1", "noncurrent": true})
	count(found("SSE-011", fx.bucket_input(fx.bucket(fx.rule_cmk, [old_enc, current_enc])))) == 0
}

test_sse011_violation_copy_in_place_left_plaintext_version if {
	b := object.union(fx.bucket(fx.rule_cmk, [old_plain, current_enc]), {"versioning": "Enabled", "versions_inspected": true})
	f := one("SSE-011", fx.bucket_input(b))
	f.resource == {"type": "object", "bucket": "b1", "region": "cn-hangzhou", "key": "doc.txt", "version_id": "v1"}
	f.observed.bucket_versioning == "Enabled"
	# the noncurrent version is SSE-011's, not SSE-004's
	count(found("SSE-004", fx.bucket_input(b))) == 0
}

test_sse011_head_failed_is_coverage if {
	bad := object.union(old_plain, {"error": {"scope": "object", "resource": "b1/doc.txt", "status_code": 500, "message": "boom"}})
	count(found("SSE-011", fx.bucket_input(fx.bucket(fx.rule_cmk, [bad])))) == 0
}

test_sse004_still_fires_for_current_version if {
	cur := object.union(fx.obj("doc.txt", "none", ""), {"version_id": "v3"})
	f := one("SSE-004", fx.bucket_input(fx.bucket(fx.rule_cmk, [old_plain, cur])))
	f.resource.version_id == "v3"
}
