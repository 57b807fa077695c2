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

# S3 names the object's key by ARN; the key's record is under its id.
test_sse005_compliant_enabled_key_by_s3_arn if {
	count(found("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", fx.s3_arn(fx.cmk))])))) == 0
}

test_sse005_violation_disabled_key_by_s3_arn if {
	f := one("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("locked", "kms-cmk", fx.s3_arn("disabled-key"))])))
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

# SSE-006: key references compared after resolution ----------------------

test_sse006_compliant_allowed_alias_object_names_bare_id if {
	p := fx.profile({"allowed_cmk_ids": ["alias/finance"]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", fx.cmk)])), p)
	count(found("SSE-006", inp)) == 0
}

test_sse006_compliant_allowed_bare_id_object_names_alias if {
	p := fx.profile({"allowed_cmk_ids": [fx.cmk]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", "alias/finance")])), p)
	count(found("SSE-006", inp)) == 0
}

test_sse006_compliant_allowed_bare_id_object_names_s3_arn if {
	p := fx.profile({"allowed_cmk_ids": [fx.cmk3]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", fx.cmk3_arn)])), p)
	count(found("SSE-006", inp)) == 0
}

test_sse006_compliant_allowed_s3_arn_object_names_bare_id if {
	p := fx.profile({"allowed_cmk_ids": [fx.cmk3_arn]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", fx.cmk3)])), p)
	count(found("SSE-006", inp)) == 0
}

test_sse006_compliant_allowed_acs_arn_object_names_alias if {
	p := fx.profile({"allowed_cmk_ids": [fx.cmk_arn]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("a", "kms-cmk", "alias/finance")])), p)
	count(found("SSE-006", inp)) == 0
}

test_sse006_violation_allowed_alias_object_under_another_key if {
	p := fx.profile({"allowed_cmk_ids": ["alias/finance"]})
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-cmk", fx.cmk3_arn)]
	f := one("SSE-006", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), p))
	f.resource.key == "b"
	f.observed.key_names == sort([fx.cmk3_arn, fx.cmk3])
}

# SSE-013 ---------------------------------------------------------------

byok := fx.profile({"name": "byok", "allowed_methods": ["kms-cmk"], "require_customer_cmk": true, "allowed_algorithms": ["AES256"]})

svc_profile := fx.profile({"name": "cis-service-key", "allowed_methods": ["kms-default", "kms-cmk"], "allowed_algorithms": ["AES256"]})

sm4_obj := fx.obj("sm4.bin", "other", "")

kms_sm4_obj := object.union(fx.obj("kms-sm4.bin", "kms-cmk", fx.cmk), {"data_encryption": "SM4"})

mixed := [
	fx.obj("cmk.bin", "kms-cmk", fx.cmk),
	fx.obj("aes.bin", "oss-managed", ""),
	fx.obj("svc.bin", "kms-default", fx.svc_key),
	sm4_obj,
	kms_sm4_obj,
	fx.obj("plain.bin", "none", ""),
]

weak(inp) := {f.resource.key: f.observed.reasons | some f in found("SSE-013", inp)}

test_sse013_compliant_default_profile_accepts_every_encryption if {
	count(found("SSE-013", fx.bucket_input(fx.bucket(fx.rule_cmk, mixed)))) == 0
}

test_sse013_compliant_byok_objects_under_customer_cmk if {
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-cmk", "alias/finance"), fx.obj("c", "kms-cmk", fx.cmk2)]
	count(found("SSE-013", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), byok))) == 0
}

test_sse013_compliant_unencrypted_and_failed_objects_are_not_judged_here if {
	count(found("SSE-013", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [plain, failed])), byok))) == 0
}

test_sse013_violation_byok_in_a_compliant_bucket if {
	# The bucket default is a customer CMK; its objects are not.
	got := weak(fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, mixed)), byok))
	got == {
		"aes.bin": ["a customer CMK is required, the object uses method oss-managed, not KMS", "method oss-managed is not allowed"],
		"svc.bin": ["a customer CMK is required, the object uses the service key (alias/acs/oss)", "method kms-default is not allowed"],
		"sm4.bin": ["a customer CMK is required, the object uses method other, not KMS", "cipher SM4 is not allowed", "method other is not allowed"],
		"kms-sm4.bin": ["cipher SM4 is not allowed"],
	}
}

test_sse013_violation_cis_service_key if {
	got := weak(fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_svc, mixed)), svc_profile))
	got == {
		"aes.bin": ["method oss-managed is not allowed"],
		"sm4.bin": ["cipher SM4 is not allowed", "method other is not allowed"],
		"kms-sm4.bin": ["cipher SM4 is not allowed"],
	}
}

test_sse013_violation_cmk_id_that_is_the_service_key if {
	objs := [fx.obj("x", "kms-cmk", fx.svc_key)]
	f := one("SSE-013", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), byok))
	f.observed.reasons == [sprintf("a customer CMK is required, the object uses the service key %s", [fx.svc_key])]
}

test_sse013_violation_aes256_only_when_sm4_required if {
	p := fx.profile({"allowed_algorithms": ["SM4"]})
	got := weak(fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_sm4, mixed)), p))
	object.keys(got) == {"cmk.bin", "aes.bin", "svc.bin"}
	got["aes.bin"] == ["cipher AES256 is not allowed"]
}

test_sse013_violation_noncurrent_version_judged_too if {
	old := object.union(fx.obj("doc", "oss-managed", ""), {"version_id": "v1", "noncurrent": true})
	cur := object.union(fx.obj("doc", "kms-cmk", fx.cmk), {"version_id": "v2"})
	f := one("SSE-013", fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [old, cur])), byok))
	f.resource.version_id == "v1"
	f.observed.noncurrent == true
	startswith(f.message, "noncurrent version v1: ")
}

test_sse013_violation_unknown_cipher_under_default_profile if {
	o := object.union(fx.obj("x", "other", ""), {"sse": "XTS-BLOWFISH"})
	f := one("SSE-013", fx.bucket_input(fx.bucket(fx.rule_aes, [o])))
	f.observed.reasons == ["cipher XTS-BLOWFISH is not allowed"]
}

test_sse013_same_with_index if {
	# The engine passes input.index; the rule must find the same objects.
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, mixed)), byok)
	weak(object.union(inp, {"index": fx.index(mixed)})) == weak(inp)
}

# SSE-014 ---------------------------------------------------------------

no_method := object.remove(fx.obj("nomethod.bin", "kms-cmk", fx.cmk), ["method"])

test_sse014_compliant_known_methods if {
	count(found("SSE-014", fx.bucket_input(fx.bucket(fx.rule_cmk, mixed)))) == 0
}

test_sse014_compliant_unknown_with_error_is_coverage if {
	o := object.union(fx.obj("x", "unknown", ""), {"error": {"scope": "object", "resource": "b1/x", "status_code": 403, "message": "denied"}})
	count(found("SSE-014", fx.bucket_input(fx.bucket(fx.rule_cmk, [o])))) == 0
}

test_sse014_violation_missing_method if {
	inp := fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("ok", "kms-cmk", fx.cmk), no_method]))
	f := one("SSE-014", inp)
	f.resource.key == "nomethod.bin"
	f.observed.method == null
	contains(f.message, "the record has no method")

	# and it is no pass of any other object rule
	count(found("SSE-004", inp)) == 0
}

test_sse014_violation_each_unrecognised_value if {
	objs := [
		fx.obj("empty", "", ""),
		fx.obj("unknown", "unknown", ""),
		fx.obj("typo", "kms-cmkk", fx.cmk),
		object.union(fx.obj("number", "none", ""), {"method": 3}),
		no_method,
	]
	inp := fx.bucket_input(fx.bucket(fx.rule_cmk, objs))
	got := {f.resource.key: f.message | some f in found("SSE-014", inp)}
	count(got) == 5
	contains(got.empty, "the method is empty")
	contains(got.unknown, "without the error")
	contains(got.typo, `method "kms-cmkk" is not one of`)
	contains(got.number, "method 3 is not a string")

	# the same with the engine's index (which lists only string methods)
	{f.resource.key | some f in found("SSE-014", object.union(inp, {"index": fx.index(objs)}))} == object.keys(got)
}

# S3's DSSE-KMS is recorded as method "other" but names a key: the
# allow-list judges the key whatever wraps it.
dsse(k, kid) := object.union(fx.obj(k, "other", kid), {"sse": "aws:kms:dsse"})

test_sse006_violation_dsse_object_outside_list if {
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [dsse("d", fx.cmk2)])), restricted)
	f := one("SSE-006", inp)
	f.resource.key == "d"
}

test_sse006_compliant_dsse_object_allowed_key if {
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [dsse("d", fx.cmk)])), restricted)
	count(found("SSE-006", inp)) == 0
}

test_sse005_violation_dsse_object_disabled_key if {
	f := one("SSE-005", fx.bucket_input(fx.bucket(fx.rule_cmk, [dsse("d", "disabled-key")])))
	f.resource.key == "d"
}

# SSE-022 ---------------------------------------------------------------

probed(inp) := object.union(inp, {"provenance": object.union(fx.provenance, {"read_probe": "all"})})

refused(o, status, code) := object.union(o, {"read_error": {"scope": "object", "resource": concat("", ["b1/", o.key]), "status_code": status, "code": code, "message": "refused"}})

test_sse022_compliant_probed_and_read if {
	objs := [object.union(o, {"read_probed": true}) | some o in fx.good_objects]
	count(found("SSE-022", probed(fx.bucket_input(fx.bucket(fx.rule_cmk, objs))))) == 0
}

test_sse022_compliant_probe_without_answer_is_not_unreadable if {
	o := object.union(fx.obj("net", "kms-cmk", fx.cmk), {"read_error": {"scope": "object", "resource": "b1/net", "code": "NetworkError", "message": "connection reset"}})
	count(found("SSE-022", probed(fx.bucket_input(fx.bucket(fx.rule_cmk, [o]))))) == 0
}

test_sse022_compliant_no_probe_ran if {
	# A read error in a snapshot whose provenance names no probe is not
	# judged (the guard that keeps unprobed scans from iterating objects).
	o := refused(fx.obj("k", "kms-cmk", fx.cmk), 409, "KeyDisabled")
	count(found("SSE-022", fx.bucket_input(fx.bucket(fx.rule_cmk, [o])))) == 0
}

test_sse022_violation_key_disabled if {
	objs := [fx.obj("ok", "kms-cmk", fx.cmk), refused(fx.obj("locked", "kms-cmk", fx.cmk), 409, "KeyDisabled")]
	f := one("SSE-022", probed(fx.bucket_input(fx.bucket(fx.rule_cmk, objs))))
	f.resource.key == "locked"
	f.observed.code == "KeyDisabled"
	f.observed.status_code == 409
	contains(f.message, "reading it back was refused: 409 KeyDisabled")
	f.evidence[1].kind == "read_probe"
}

test_sse022_violation_each_refused_object if {
	objs := [
		refused(fx.obj("gone", "kms-cmk", fx.cmk), 400, "KMS.NotFoundException"),
		refused(fx.obj("bad", "oss-managed", ""), 500, "InternalError"),
	]
	got := {f.resource.key: f.observed.code | some f in found("SSE-022", probed(fx.bucket_input(fx.bucket(fx.rule_cmk, objs))))}
	got == {"gone": "KMS.NotFoundException", "bad": "InternalError"}
}

# SSE-023 ---------------------------------------------------------------

ssec_obj(k) := object.union(fx.obj(k, "sse-c", ""), {"sse": "SSE-C"})

test_sse023_compliant_profile_allows_ssec if {
	p := fx.profile({"allowed_methods": ["oss-managed", "kms-default", "kms-cmk", "sse-c", "other"]})
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [ssec_obj("c.bin")])), p)
	count(found("SSE-023", inp)) == 0
}

test_sse023_compliant_no_ssec_objects if {
	count(found("SSE-023", fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)))) == 0
}

test_sse023_violation_default_profile if {
	inp := fx.bucket_input(fx.bucket(fx.rule_cmk, array.concat(fx.good_objects, [ssec_obj("c.bin")])))
	f := one("SSE-023", inp)
	f.resource.key == "c.bin"
	f.observed.method == "sse-c"
	f.observed.sse == "SSE-C"
	contains(f.message, "customer-provided key (SSE-C)")

	# SSE-C is neither unencrypted, nor unrecognised, nor weak
	count(found("SSE-004", inp)) == 0
	count(found("SSE-014", inp)) == 0
	count(found("SSE-013", inp)) == 0
}

test_sse023_violation_with_index_and_byok if {
	objs := [ssec_obj("c1"), ssec_obj("c2"), fx.obj("k", "kms-cmk", fx.cmk)]
	inp := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, objs)), byok)
	with_index := object.union(inp, {"index": fx.index(objs)})
	{f.resource.key | some f in found("SSE-023", with_index)} == {"c1", "c2"}
	count(found("SSE-013", with_index)) == 0
}
