package sseaudit.keys_test

import data.sseaudit.fixtures as fx
import data.sseaudit.keys
import data.sseaudit.lib

found(id, inp) := {f | fs := keys.deny with input as inp; some f in fs; f.rule == id}

one(id, inp) := f if {
	fs := found(id, inp)
	count(fs) == 1
	some f in fs
}

cmk_bucket(id) := fx.bucket_input(fx.bucket(fx.rule_cmk_with(id), [fx.obj("a", "kms-cmk", id)]))

# lib: resolution -------------------------------------------------------

test_key_names_resolve_alias_id_and_arns if {
	lib.key_names("alias/finance") == {"alias/finance", fx.cmk, fx.cmk_arn} with input as fx.bucket_input(fx.bucket(null, []))
	lib.key_names(fx.cmk3) == {fx.cmk3} with input as fx.bucket_input(fx.bucket(null, []))
	lib.key_names(fx.cmk3_arn) == {fx.cmk3_arn, fx.cmk3} with input as fx.bucket_input(fx.bucket(null, []))
	lib.key_names("alias/nowhere") == {"alias/nowhere"} with input as fx.bucket_input(fx.bucket(null, []))

	# an alias ARN is not reduced to the bare alias (aliases are per region)
	lib.bare_key_id("acs:kms:cn-hangzhou:1:alias/finance") == "acs:kms:cn-hangzhou:1:alias/finance"
	lib.bare_key_id("not-an-arn:key/x") == "not-an-arn:key/x"
}

test_canonical_key_same_record_for_every_name if {
	inp := fx.bucket_input(fx.bucket(null, []))
	a := lib.canonical_key("alias/finance") with input as inp
	b := lib.canonical_key(fx.cmk) with input as inp
	a == b
	a.key_id == fx.cmk
}

# SSE-015 ---------------------------------------------------------------

test_sse015_compliant_rotating_yearly if {
	count(found("SSE-015", cmk_bucket(fx.cmk))) == 0
}

test_sse015_compliant_service_key_is_managed_by_the_service if {
	objs := [fx.obj("a", "kms-default", fx.svc_key), fx.obj("b", "kms-default", "alias/acs/oss")]
	count(found("SSE-015", fx.bucket_input(fx.bucket(fx.rule_svc, objs)))) == 0
}

test_sse015_compliant_key_not_in_use if {
	# The snapshot holds non-rotating keys, but this bucket uses none of them.
	count(found("SSE-015", fx.bucket_input(fx.bucket(fx.rule_aes, [fx.obj("a", "oss-managed", "")])))) == 0
}

test_sse015_compliant_disabled_or_unknown_keys_are_other_rules if {
	every id in ["disabled-key", "pending-key", "gone-key", "undescribed-key", "stateless-key"] {
		count(found("SSE-015", cmk_bucket(id))) == 0
	}
}

test_sse015_compliant_interval_within_a_longer_maximum if {
	inp := fx.with_profile(cmk_bucket("slowrotate-key"), fx.profile({"max_rotation_days": 730}))
	count(found("SSE-015", inp)) == 0
}

test_sse015_violation_rotation_disabled if {
	f := one("SSE-015", cmk_bucket("norotate-key"))
	f.resource == {"type": "key", "kms_key_id": "norotate-key", "region": fx.region}
	f.observed.reasons == ["automatic rotation is Disabled"]
	f.expected == {"automatic_rotation": "Enabled", "max_rotation_days": 365}
}

test_sse015_violation_interval_above_maximum if {
	f := one("SSE-015", cmk_bucket("slowrotate-key"))
	f.observed.rotation_interval_days == 730
	f.observed.reasons == ["the rotation interval is 730 days, longer than the profile's maximum of 365 days"]
}

test_sse015_violation_stricter_profile if {
	inp := fx.with_profile(cmk_bucket(fx.cmk), fx.profile({"max_rotation_days": 90}))
	f := one("SSE-015", inp)
	f.observed.reasons == ["the rotation interval is 365 days, longer than the profile's maximum of 90 days"]
}

test_sse015_violation_imported_key_material if {
	f := one("SSE-015", cmk_bucket("imported-key"))
	contains(f.observed.reasons[0], "origin EXTERNAL")
}

test_sse015_violation_no_rotation_status_is_not_a_pass if {
	f := one("SSE-015", cmk_bucket("silent-key"))
	f.observed.reasons == ["KMS reported no automatic rotation status"]
}

test_sse015_violation_named_only_by_the_default if {
	f := one("SSE-015", fx.bucket_input(fx.bucket(fx.rule_cmk_with("norotate-key"), [])))
	f.resource.kms_key_id == "norotate-key"
}

test_sse015_violation_one_finding_whatever_the_key_is_called if {
	# Bucket default by alias, objects by id and by ARN: one key, one
	# finding, on the key's id; and the finding is the same from a bucket
	# that names the key only by id (so the engine's dedup by id loses nothing).
	strict := fx.profile({"max_rotation_days": 30})
	objs := [fx.obj("a", "kms-cmk", fx.cmk), fx.obj("b", "kms-cmk", fx.cmk_arn)]
	by_alias := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk_with("alias/finance"), objs)), strict)
	by_id := fx.with_profile(fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("c", "kms-cmk", fx.cmk)])), strict)
	f := one("SSE-015", by_alias)
	f.resource.kms_key_id == fx.cmk
	found("SSE-015", by_id) == {f}
}

# SSE-016 ---------------------------------------------------------------

test_sse016_compliant_enabled_and_disabled_keys if {
	count(found("SSE-016", cmk_bucket(fx.cmk))) == 0
	count(found("SSE-016", cmk_bucket("disabled-key"))) == 0
}

test_sse016_compliant_named_only_by_the_default_is_sse003 if {
	count(found("SSE-016", fx.bucket_input(fx.bucket(fx.rule_cmk_with("pending-key"), [])))) == 0
}

test_sse016_violation_pending_key_protects_objects if {
	objs := [fx.obj("x", "kms-cmk", "pending-key"), fx.obj("y", "kms-cmk", "pending-key")]
	f := one("SSE-016", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))
	f.resource == {"type": "key", "kms_key_id": "pending-key", "region": fx.region}
	f.observed.delete_date == "2024-06-08T00:00:00Z"
	contains(f.message, "deletion date 2024-06-08T00:00:00Z")
}

test_sse016_violation_same_finding_from_every_bucket if {
	a := fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("x", "kms-cmk", "pending-key")]))
	b := fx.bucket_input(object.union(fx.bucket(fx.rule_aes, [fx.obj("y", "kms-cmk", "pending-key"), fx.obj("z", "kms-cmk", "pending-key")]), {"name": "b2"}))
	found("SSE-016", a) == found("SSE-016", b)
	count(found("SSE-016", a)) == 1
}
