package sseaudit.coverage_test

import data.sseaudit.coverage
import data.sseaudit.fixtures as fx

found(id, inp) := {f | fs := coverage.deny with input as inp; some f in fs; f.rule == id}

scan_found(id, inp) := {f | fs := coverage.scan_deny with input as inp; some f in fs; f.rule == id}

one(set) := f if {
	count(set) == 1
	some f in set
}

err(scope, resource) := {"scope": scope, "resource": resource, "status_code": 403, "code": "AccessDenied", "message": "denied"}

failed_obj := object.union(fx.obj("failed.txt", "none", ""), {"error": err("object", "b1/failed.txt")})

# SSE-008 ---------------------------------------------------------------

test_sse008_compliant_fully_read if {
	count(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)))) == 0
}

test_sse008_compliant_service_key_alias_not_required_in_keys if {
	r := {"algorithm": "KMS", "kms_master_key_id": "alias/acs/oss", "method": "kms-default"}
	count(found("SSE-008", fx.bucket_input(fx.bucket(r, [])))) == 0
}

test_sse008_violation_rule_unreadable if {
	b := object.union(fx.bucket(null, fx.good_objects), {"encryption_error": err("rule", "b1")})
	f := one(found("SSE-008", fx.bucket_input(b)))
	f.resource.type == "bucket"
	f.evidence[0].source == "encryption_error"
}

test_sse008_violation_listing_failed if {
	b := object.union(fx.bucket(fx.rule_cmk, fx.good_objects), {"list_error": err("list", "b1"), "objects_listed": 5})
	f := one(found("SSE-008", fx.bucket_input(b)))
	count(f.observed.gaps) == 2
}

test_sse008_violation_head_failed if {
	f := one(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk, array.concat(fx.good_objects, [failed_obj])))))
	f.observed.objects_failed == 1
	f.observed.failed_objects_sample == ["failed.txt"]
}

test_sse008_violation_undescribed_key if {
	objs := [fx.obj("a", "kms-cmk", "never-seen")]
	f := one(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk, objs))))
	f.observed.undescribed_keys == ["never-seen"]
}

test_sse008_violation_customer_alias_not_described if {
	f := one(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk_with("alias/payments"), []))))
	f.observed.undescribed_keys == ["alias/payments"]
}

test_sse008_violation_many_gaps_one_finding if {
	b := object.union(
		fx.bucket(fx.rule_cmk_with("never-seen"), [failed_obj]),
		{"list_error": err("list", "b1"), "region_error": err("bucket", "b1"), "objects_listed": 10},
	)
	f := one(found("SSE-008", fx.bucket_input(b)))
	count(f.observed.gaps) == 5
}

# The engine evaluates bucket rules after a bucket's last object, with no
# objects and input.stats over all of them: the same findings.
with_stats(inp, stats) := object.union(object.union(inp, {"bucket": object.union(inp.bucket, {"objects": []})}), {"stats": stats})

test_sse008_compliant_stats_fully_read if {
	stats := {"objects": 2, "bytes": 20, "by_method": {"kms-cmk": 2}, "no_method": 0, "by_kms_key": {fx.cmk: 2}, "failed": 0, "failed_sample": []}
	count(found("SSE-008", with_stats(fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)), stats))) == 0
}

test_sse008_violation_stats_head_failed if {
	objs := array.concat(fx.good_objects, [failed_obj])
	inp := fx.bucket_input(fx.bucket(fx.rule_cmk, objs))
	stats := {
		"objects": 3, "bytes": 30, "by_method": {"kms-cmk": 2, "none": 1}, "no_method": 0, "by_kms_key": {fx.cmk: 2},
		"failed": 1, "failed_sample": [{"key": "failed.txt", "error": failed_obj.error}],
	}
	f := one(found("SSE-008", with_stats(inp, stats)))
	f == one(found("SSE-008", inp)) # the same finding as from the objects
	f.observed.objects_failed == 1
	f.observed.failed_objects_sample == ["failed.txt"]
}

test_sse008_violation_stats_undescribed_key if {
	stats := {"objects": 1, "bytes": 10, "by_method": {"kms-cmk": 1}, "no_method": 0, "by_kms_key": {"never-seen": 1}, "failed": 0, "failed_sample": []}
	f := one(found("SSE-008", with_stats(fx.bucket_input(fx.bucket(fx.rule_cmk, [])), stats)))
	f.observed.undescribed_keys == ["never-seen"]
}

test_sse008_violation_stats_not_inspected if {
	b := object.union(fx.bucket(fx.rule_cmk, []), {"objects_listed": 10})
	stats := {"objects": 4, "bytes": 40, "by_method": {"oss-managed": 4}, "no_method": 0, "by_kms_key": {}, "failed": 0, "failed_sample": []}
	f := one(found("SSE-008", with_stats(fx.bucket_input(b), stats)))
	"6 of 10 listed objects were never inspected" in f.observed.gaps
}

# SSE-009 ---------------------------------------------------------------

test_sse009_compliant_complete_scan if {
	count(scan_found("SSE-009", fx.scan_input({}))) == 0
}

test_sse009_compliant_bucket_error_of_a_listed_bucket_is_sse008 if {
	cov := object.union(fx.scan_input({}).scan.coverage, {"errors": [err("bucket", "b1")]})
	count(scan_found("SSE-009", fx.scan_input({"coverage": cov}))) == 0
}

test_sse009_violation_incomplete if {
	f := one(scan_found("SSE-009", fx.scan_input({"complete": false})))
	f.resource == {"type": "scan"}
	f.observed.complete == false
}

test_sse009_violation_scan_error_and_unreadable_bucket if {
	cov := object.union(fx.scan_input({}).scan.coverage, {
		"buckets": 3,
		"errors": [err("scan", "ListBuckets"), err("bucket", "b9")],
	})
	f := one(scan_found("SSE-009", fx.scan_input({"coverage": cov})))
	count(f.observed.gaps) == 3
	count(f.evidence) == 3
}

# SSE-010 ---------------------------------------------------------------

test_sse010_compliant_described_and_missing_keys if {
	keys := [fx.keys[fx.cmk], fx.keys["gone-key"], fx.keys["disabled-key"]]
	count(scan_found("SSE-010", fx.scan_input({"keys": keys}))) == 0
}

test_sse010_violation_describe_failed if {
	f := one(scan_found("SSE-010", fx.scan_input({"keys": [fx.keys[fx.cmk], fx.keys["undescribed-key"]]})))
	f.resource == {"type": "key", "kms_key_id": "undescribed-key", "region": "cn-hangzhou"}
}

test_sse010_violation_no_state if {
	f := one(scan_found("SSE-010", fx.scan_input({"keys": [fx.keys["stateless-key"]]})))
	contains(f.message, "no known state")
}

# SSE-012 ---------------------------------------------------------------

test_sse012_compliant_unversioned if {
	count({f | some f in coverage.deny with input as fx.bucket_input(fx.bucket(fx.rule_cmk, fx.good_objects)); f.rule == "SSE-012"}) == 0
}

test_sse012_compliant_versions_inspected if {
	b := object.union(fx.bucket(fx.rule_cmk, fx.good_objects), {"versioning": "Enabled", "versions_inspected": true})
	count({f | some f in coverage.deny with input as fx.bucket_input(b); f.rule == "SSE-012"}) == 0
}

test_sse012_violation_versioned_not_inspected if {
	every status in ["Enabled", "Suspended"] {
		b := object.union(fx.bucket(fx.rule_cmk, fx.good_objects), {"versioning": status})
		fs := found("SSE-012", fx.bucket_input(b))
		count(fs) == 1
		every f in fs {
			f.resource.type == "bucket"
			f.observed.versioning == status
		}
	}
}

# S3 names an object's key by ARN; the scanner records the key under its
# bare id: that record covers it, with or without its own error.
test_sse008_compliant_object_names_arn_of_recorded_key if {
	objs := [fx.obj("a", "kms-cmk", fx.s3_arn(fx.cmk)), fx.obj("b", "kms-cmk", fx.s3_arn("undescribed-key"))]
	count(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk_with(fx.s3_arn(fx.cmk)), objs)))) == 0
}

test_sse008_violation_object_names_arn_of_unrecorded_key if {
	objs := [fx.obj("a", "kms-cmk", fx.s3_arn("never-seen"))]
	f := one(found("SSE-008", fx.bucket_input(fx.bucket(fx.rule_cmk, objs))))
	f.observed.undescribed_keys == [fx.s3_arn("never-seen")]
}

# The engine's form of input.scan: no buckets, the bucket-scope errors that
# name a bucket of the snapshot in known_error_buckets.
engine_scan_input(cov, known) := {"scan": object.union(object.remove(fx.scan_input({}).scan, ["buckets"]), {
	"coverage": cov,
	"known_error_buckets": known,
})}

test_sse009_compliant_bucket_error_of_a_known_bucket_engine_input if {
	cov := object.union(fx.scan_input({}).scan.coverage, {"errors": [err("bucket", "b1")]})
	count(scan_found("SSE-009", engine_scan_input(cov, ["b1"]))) == 0
}

test_sse009_violation_bucket_error_of_an_unknown_bucket_engine_input if {
	cov := object.union(fx.scan_input({}).scan.coverage, {"errors": [err("bucket", "b1"), err("bucket", "b9")]})
	f := one(scan_found("SSE-009", engine_scan_input(cov, ["b1"])))
	count(f.observed.gaps) == 1
	startswith(f.observed.gaps[0], "bucket b9 could not be read")
}
