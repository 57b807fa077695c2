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

scan_found(id, inp) := {f | fs := keys.scan_deny with input as inp; some f in fs; f.rule == id}

scan_one(id, inp) := f if {
	fs := scan_found(id, inp)
	count(fs) == 1
	some f in fs
}

# scan_with(keys, buckets): scan-level input holding these key records and
# bucket headers.
scan_with(ks, bs) := fx.scan_input({"keys": ks, "buckets": bs})

header(enc) := object.remove(fx.bucket(enc, []), ["objects"])

test_sse015_compliant_rotating_yearly if {
	count(scan_found("SSE-015", scan_with([fx.keys[fx.cmk]], [header(fx.rule_cmk)]))) == 0
}

test_sse015_compliant_service_key_is_managed_by_the_service if {
	ks := [fx.keys[fx.svc_key], fx.keys["alias/acs/oss"]]
	count(scan_found("SSE-015", scan_with(ks, [header(fx.rule_svc)]))) == 0
}

test_sse015_compliant_disabled_missing_or_unknown_keys_are_other_rules if {
	ks := [fx.keys[id] | some id in ["disabled-key", "pending-key", "gone-key", "undescribed-key", "stateless-key"]]
	count(scan_found("SSE-015", scan_with(ks, []))) == 0
}

test_sse015_compliant_interval_within_a_longer_maximum if {
	inp := fx.with_profile(scan_with([fx.keys["slowrotate-key"]], []), fx.profile({"max_rotation_days": 730}))
	count(scan_found("SSE-015", inp)) == 0
}

test_sse015_compliant_allow_list_alias_not_in_use if {
	# The scan resolved an allow-listed alias; no bucket default names it,
	# objects name keys by id: the record is not a key in use.
	alias := object.union(fx.keys["norotate-key"], {"key_id": "alias/unused", "resolved_key_id": "norotate-key"})
	count(scan_found("SSE-015", scan_with([alias], [header(fx.rule_cmk)]))) == 0
}

test_sse015_violation_rotation_disabled if {
	f := scan_one("SSE-015", scan_with([fx.keys["norotate-key"]], []))
	f.resource == {"type": "key", "kms_key_id": "norotate-key", "region": fx.region}
	f.observed.reasons == ["automatic rotation is Disabled"]
	f.expected == {"automatic_rotation": "Enabled", "max_rotation_days": 365}
}

test_sse015_violation_interval_above_maximum if {
	f := scan_one("SSE-015", scan_with([fx.keys["slowrotate-key"]], []))
	f.observed.rotation_interval_days == 730
	f.observed.reasons == ["the rotation interval is 730 days, longer than the profile's maximum of 365 days"]
}

test_sse015_violation_stricter_profile if {
	inp := fx.with_profile(scan_with([fx.keys[fx.cmk]], []), fx.profile({"max_rotation_days": 90}))
	f := scan_one("SSE-015", inp)
	f.observed.reasons == ["the rotation interval is 365 days, longer than the profile's maximum of 90 days"]
}

test_sse015_violation_unreadable_interval if {
	k := object.union(fx.keys[fx.cmk], {"rotation_interval": "yearly"})
	f := scan_one("SSE-015", scan_with([k], []))
	f.observed.rotation_interval_days == null
	contains(f.observed.reasons[0], `("yearly")`)
}

test_sse015_violation_imported_key_material if {
	f := scan_one("SSE-015", scan_with([fx.keys["imported-key"]], []))
	contains(f.observed.reasons[0], "origin EXTERNAL")
}

test_sse015_violation_no_rotation_status_is_not_a_pass if {
	f := scan_one("SSE-015", scan_with([fx.keys["silent-key"]], []))
	f.observed.reasons == ["KMS reported no automatic rotation status"]
}

test_sse015_violation_alias_named_by_a_default if {
	alias := object.union(fx.keys["norotate-key"], {"key_id": "alias/slow", "resolved_key_id": "norotate-key"})
	f := scan_one("SSE-015", scan_with([alias], [header(fx.rule_cmk_with("alias/slow"))]))
	f.resource.kms_key_id == "norotate-key"
}

test_sse015_violation_one_finding_whatever_the_key_is_called if {
	# The key recorded under its alias, its id and its ARN: one key, one
	# finding, on its id, from the record named by the id.
	k := fx.keys["norotate-key"]
	alias := object.union(k, {"key_id": "alias/slow", "resolved_key_id": "norotate-key", "read_at": "2024-06-01T00:00:01Z"})
	arn := object.union(k, {"key_id": k.arn, "resolved_key_id": "norotate-key", "read_at": "2024-06-01T00:00:02Z"})
	f := scan_one("SSE-015", scan_with([alias, k, arn], [header(fx.rule_cmk_with("alias/slow"))]))
	f.resource.kms_key_id == "norotate-key"
	f.evidence[0].data.key_id == "norotate-key"
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

test_sse016_violation_stats_pending_key_protects_objects if {
	objs := [fx.obj("x", "kms-cmk", "pending-key")]
	inp := fx.bucket_input(fx.bucket(fx.rule_cmk, objs))
	stats := {"objects": 1, "bytes": 10, "by_method": {"kms-cmk": 1}, "no_method": 0, "by_kms_key": {"pending-key": 1}, "failed": 0, "failed_sample": []}
	with_stats := object.union(object.union(inp, {"bucket": object.union(inp.bucket, {"objects": []})}), {"stats": stats})
	f := one("SSE-016", with_stats)
	f == one("SSE-016", inp)
}

test_sse016_violation_same_finding_from_every_bucket if {
	a := fx.bucket_input(fx.bucket(fx.rule_cmk, [fx.obj("x", "kms-cmk", "pending-key")]))
	b := fx.bucket_input(object.union(fx.bucket(fx.rule_aes, [fx.obj("y", "kms-cmk", "pending-key"), fx.obj("z", "kms-cmk", "pending-key")]), {"name": "b2"}))
	found("SSE-016", a) == found("SSE-016", b)
	count(found("SSE-016", a)) == 1
}

# One key named by id on one object and by its S3 ARN on another: one
# finding, about the key's id.
test_sse016_violation_pending_key_by_id_and_s3_arn if {
	objs := [fx.obj("x", "kms-cmk", "pending-key"), fx.obj("y", "kms-cmk", fx.s3_arn("pending-key"))]
	f := one("SSE-016", fx.bucket_input(fx.bucket(fx.rule_cmk, objs)))
	f.resource == {"type": "key", "kms_key_id": "pending-key", "region": fx.region}
}

# The engine's form of input.scan: no buckets, the bucket defaults' key
# references in default_kms_key_ids.
engine_scan_with(ks, refs) := {"scan": object.union(object.remove(scan_with(ks, []).scan, ["buckets"]), {"default_kms_key_ids": refs})}

test_sse015_alias_named_by_a_default_engine_input if {
	alias := object.union(fx.keys["norotate-key"], {"key_id": "alias/slow", "resolved_key_id": "norotate-key"})
	scan_one("SSE-015", engine_scan_with([alias], ["alias/slow"]))
	count(scan_found("SSE-015", engine_scan_with([alias], [fx.cmk]))) == 0
}
