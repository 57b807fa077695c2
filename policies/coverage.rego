# METADATA
# title: Coverage
# description: >-
#   What the scan could not read. An unknown state is reported, never passed:
#   a bucket whose rule could not be read, objects that could not be listed or
#   inspected, KMS keys that could not be described, a scan that did not
#   finish. deny is evaluated once per bucket; scan_deny once per scan with
#   input.scan.
# scope: package
package sseaudit.coverage

import data.sseaudit.lib

# METADATA
# title: Bucket not fully read
# description: >-
#   Part of the bucket could not be read, so its encryption state is not
#   fully known: the default rule or the region could not be read, the object
#   listing failed or stopped, listed objects were not inspected, HEAD failed
#   on some objects, or a KMS key its default or objects use was not
#   described. One finding per bucket lists every gap.
# custom:
#   id: SSE-008
#   severity: medium
#   category: coverage
#   resource_type: bucket
#   remediation:
#     text: >-
#       Fix the cause in the evidence (usually missing oss:GetBucketEncryption,
#       oss:ListObjects, oss:GetObjectMeta or kms:DescribeKey permission for the
#       scanning principal, or throttling) and scan the bucket again.
#     cli: |-
#       sseaudit scan --endpoint ENDPOINT --dialect oss --buckets BUCKET
#       aliyun ram ListPoliciesForUser --UserName SCANNER
#   controls: []
deny contains finding if {
	b := input.bucket
	gaps := bucket_gaps
	count(gaps) > 0
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket was not fully read, its encryption state is partly unknown: %s", [concat("; ", sort(gaps))]),
		"observed": {
			"gaps": sort(gaps),
			"objects_listed": b.objects_listed,
			"objects_inspected": b.objects_inspected,
			"objects_failed": lib.bucket_failed_count,
			"failed_objects_sample": failed_sample,
			"undescribed_keys": sort(undescribed_keys),
		},
		"expected": {"all_read": true},
		"evidence": array.concat(
			[e |
				some f in ["encryption_error", "region_error", "list_error"]
				err := b[f]
				err != null
				e := {"kind": "coverage_error", "source": f, "captured_at": b.read_at, "data": err}
			],
			array.concat(
				[e |
					some obj in lib.bucket_failed_sample
					e := {"kind": "coverage_error", "source": "HeadObject", "data": obj.error}
				],
				[{"kind": "coverage", "source": "bucket counts", "captured_at": b.read_at, "data": {
					"objects_listed": b.objects_listed,
					"objects_inspected": b.objects_inspected,
					"objects_recorded": lib.bucket_object_count,
				}}],
			),
		),
	}
}

bucket_gaps contains sprintf("the default encryption rule could not be read (%s)", [lib.error_text(input.bucket.encryption_error)]) if {
	lib.present(input.bucket, "encryption_error")
}

bucket_gaps contains sprintf("the object listing failed (%s)", [lib.error_text(input.bucket.list_error)]) if {
	lib.present(input.bucket, "list_error")
}

bucket_gaps contains sprintf("the bucket's region could not be read (%s)", [lib.error_text(input.bucket.region_error)]) if {
	lib.present(input.bucket, "region_error")
}

# objects_inspected counts the objects whose HEAD succeeded; listed objects
# missing from the snapshot were never inspected (HEAD failures are below).
bucket_gaps contains sprintf("%d of %d listed objects were never inspected", [n - w, n]) if {
	n := input.bucket.objects_listed
	w := lib.bucket_object_count
	n > w
}

bucket_gaps contains sprintf("HEAD failed on %d object(s), e.g. %s", [lib.bucket_failed_count, concat(", ", failed_sample)]) if {
	lib.bucket_failed_count > 0
}

bucket_gaps contains sprintf("KMS key %s is used but was not described", [id]) if {
	some id in undescribed_keys
}

# failed_sample: the keys of up to five objects whose HEAD failed.
failed_sample := [o.key | some o in lib.bucket_failed_sample]

# undescribed_keys: KMS keys the bucket's default or objects use that the
# scan has no record of (their state is unknown). A key ARN is covered by
# the record of its bare id (lib.key_records): S3 names an object's key by
# ARN, the scanner records each key once under its id.
undescribed_keys contains id if {
	some id in referenced_keys
	count(lib.key_records(id)) == 0
}

# The service key's aliases (alias/acs/oss) need no description.
referenced_keys contains id if {
	some id in lib.bucket_key_ids
	not lib.is_service_key_id(id)
}

referenced_keys contains id if {
	id := input.bucket.encryption.kms_master_key_id
	id != ""
	not lib.is_service_key_id(id)
}

# METADATA
# title: Scan incomplete
# description: >-
#   The scan as a whole did not cover the estate: it was cancelled or failed
#   before the end (complete=false), it recorded scan-level errors, or some
#   buckets it listed could not be read at all. Findings from an incomplete
#   scan are a lower bound.
# custom:
#   id: SSE-009
#   severity: medium
#   category: coverage
#   resource_type: scan
#   remediation:
#     text: >-
#       Look at the errors in the evidence, fix their cause (permissions,
#       network, throttling, a cancelled run) and run the scan again to the
#       end.
#     cli: sseaudit scan --endpoint ENDPOINT --dialect oss --kms-endpoint KMS_ENDPOINT
#   controls: []
scan_deny contains finding if {
	s := input.scan
	gaps := scan_gaps
	count(gaps) > 0
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.scan_resource,
		"message": sprintf("scan did not cover the whole estate: %s", [concat("; ", sort(gaps))]),
		"observed": {
			"complete": s.complete,
			"buckets": s.coverage.buckets,
			"buckets_read": s.coverage.buckets_read,
			"gaps": sort(gaps),
		},
		"expected": {"complete": true, "errors": 0},
		"evidence": array.concat(
			[{"kind": "coverage", "source": "snapshot coverage", "captured_at": s.finished_at, "data": object.remove(s.coverage, ["errors"])}],
			[{"kind": "coverage_error", "source": "snapshot coverage", "captured_at": s.finished_at, "data": e} | some e in scan_errors],
		),
	}
}

scan_gaps contains "the scan did not complete (cancelled or failed before the end)" if {
	input.scan.complete == false
}

scan_gaps contains sprintf("%d of %d buckets were not read", [n - m, n]) if {
	n := input.scan.coverage.buckets
	m := input.scan.coverage.buckets_read
	n > m
}

scan_gaps contains sprintf("scan error: %s", [lib.error_text(e)]) if {
	some e in scan_errors
	e.scope == "scan"
}

scan_gaps contains sprintf("bucket %s could not be read: %s", [e.resource, lib.error_text(e)]) if {
	some e in scan_errors
	e.scope == "bucket"
}

# scan_errors: errors not attached to a bucket record of the snapshot.
scan_errors contains e if {
	some e in input.scan.coverage.errors
	e.scope == "scan"
}

scan_errors contains e if {
	some e in input.scan.coverage.errors
	e.scope == "bucket"
	not known_bucket[e.resource]
}

# known_bucket: the buckets of the snapshot named by a bucket-scope error.
# The engine gives them as input.scan.known_error_buckets (bounded by the
# errors; the built-in rules get no input.scan.buckets, which grows with
# the buckets); stock opa eval on an input with the buckets computes them.
known_bucket contains name if some name in input.scan.known_error_buckets

known_bucket contains b.name if {
	not "known_error_buckets" in object.keys(input.scan)
	some b in input.scan.buckets
}

# METADATA
# title: KMS key state unknown
# description: >-
#   A KMS key used by a bucket default or by objects could not be described,
#   or KMS returned no state for it: whether the data under it can be read is
#   unknown.
# custom:
#   id: SSE-010
#   severity: medium
#   category: coverage
#   resource_type: key
#   remediation:
#     text: >-
#       Grant the scanning principal kms:DescribeKey on the key (in the key's
#       region) and scan again.
#     cli: aliyun kms DescribeKey --KeyId KEY_ID --region REGION
#   controls: []
scan_deny contains finding if {
	some k in input.scan.keys
	problem := key_unknown(k)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.key_resource(k),
		"message": sprintf("KMS key %s in %s %s", [k.key_id, k.region, problem]),
		"observed": {"state": object.get(k, "state", ""), "error": object.get(k, "error", null)},
		"expected": {"described": true},
		"evidence": [lib.key_evidence(k)],
	}
}

key_unknown(k) := sprintf("could not be described (%s)", [lib.error_text(k.error)]) if {
	lib.present(k, "error")
} else := "has no known state (KMS returned none)" if {
	not k.missing == true
	object.get(k, "state", "") == ""
}

# METADATA
# title: Versioned bucket scanned without its noncurrent versions
# description: >-
#   The bucket keeps object versions (versioning Enabled or Suspended), but
#   only current versions were inspected. Older versions may hold data
#   written before encryption was in place, including the unencrypted
#   originals of objects re-encrypted by copying them onto themselves.
# custom:
#   id: SSE-012
#   severity: low
#   category: coverage
#   resource_type: bucket
#   remediation:
#     text: >-
#       Scan the bucket again with --versions (one HEAD per version), or
#       expire noncurrent versions with a lifecycle rule.
#     cli: |-
#       sseaudit scan --endpoint ENDPOINT --dialect oss --buckets BUCKET --versions
#   controls: []
deny contains finding if {
	b := input.bucket
	object.get(b, "versioning", "") in {"Enabled", "Suspended"}
	not object.get(b, "versions_inspected", false)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket versioning is %s, but only current object versions were inspected: older versions may be unencrypted", [b.versioning]),
		"observed": {"versioning": b.versioning, "versions_inspected": false},
		"expected": {"versions_inspected": true},
		"evidence": [{
			"kind": "bucket_versioning",
			"source": "GetBucketVersioning",
			"captured_at": b.read_at,
			"data": {"status": b.versioning},
		}],
	}
}
