# METADATA
# title: Key hygiene
# description: >-
#   Rules on the customer master keys (CMKs) the estate uses, beside the
#   encryption itself: that they rotate as the organisation requires, and
#   that none still protecting objects is about to be deleted. Service keys
#   (alias/acs/oss, alias/aws/s3, keys KMS says the storage service created)
#   are managed by the service and skipped. A finding is about the key, so
#   it names the key's resolved id (one key named by alias, id or ARN is one
#   resource). Rotation is judged once per scan (scan_deny) from the key
#   records, which the scanner writes only for keys a bucket default or an
#   object names, plus the allow-list's aliases (told apart below). Pending
#   deletion needs the objects, so it is judged per bucket (deny): every
#   bucket holding objects under the key yields the same finding, built from
#   the key record only (same id, same content), which the engine keeps
#   once; each of those buckets also has an SSE-005 finding per object, so
#   the copies never outnumber the per-object findings they sum up.
# scope: package
package sseaudit.keys

import data.sseaudit.lib

# METADATA
# title: Customer CMK not rotated as required
# description: >-
#   A customer CMK that the bucket's default rule or its objects use is
#   Enabled but does not rotate automatically, or rotates less often than
#   the profile's max_rotation_days, or KMS reported no rotation status for
#   it. Rotating the key material regularly bounds how much data one key
#   version protects and how long a leaked version stays useful. Keys that
#   are disabled, pending deletion, missing or not described are judged by
#   SSE-003, SSE-005, SSE-016 and SSE-010 instead.
# custom:
#   id: SSE-015
#   severity: medium
#   category: key
#   resource_type: key
#   remediation:
#     text: >-
#       Turn on automatic rotation with an interval no longer than the
#       profile's max_rotation_days. Key material imported into KMS (origin
#       EXTERNAL) cannot rotate automatically: move the data to a new CMK
#       within the cryptoperiod instead.
#     cli: |-
#       aliyun kms UpdateRotationPolicy --KeyId KEY_ID --EnableAutomaticRotation true --RotationInterval 365d
#       aws kms enable-key-rotation --key-id KEY_ID --rotation-period-in-days 365
#   controls:
#     - {framework: "CIS Amazon Web Services Foundations Benchmark", version: "v1.5.0", id: "3.8", title: "Ensure rotation for customer created symmetric CMKs is enabled"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.7.4", title: "Key management policies and procedures are implemented for cryptographic key changes for keys that have reached the end of their cryptoperiod"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
scan_deny contains finding if {
	some k in rotation_keys
	k.state == "Enabled"
	reasons := rotation_reasons(k)
	count(reasons) > 0
	id := lib.canonical_key_id(k)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": {"type": "key", "kms_key_id": id, "region": k.region},
		"message": sprintf("customer CMK %s in %s is not rotated as profile %q requires: %s", [id, k.region, lib.profile.name, concat("; ", sort(reasons))]),
		"observed": {
			"key_id": id,
			"arn": object.get(k, "arn", ""),
			"origin": object.get(k, "origin", ""),
			"automatic_rotation": object.get(k, "automatic_rotation", ""),
			"rotation_interval": object.get(k, "rotation_interval", ""),
			"rotation_interval_days": days_or_null(object.get(k, "rotation_interval", "")),
			"last_rotation_date": object.get(k, "last_rotation_date", ""),
			"creation_date": object.get(k, "creation_date", ""),
			"reasons": sort(reasons),
		},
		"expected": {"automatic_rotation": "Enabled", "max_rotation_days": lib.profile.max_rotation_days},
		"evidence": [lib.key_evidence(k)],
	}
}

# rotation_keys: one record per customer CMK in use (keyed by region and
# resolved id), whichever names the snapshot recorded it under: the record
# named by the key's own id when there is one, else the first by name.
rotation_keys[name] := pick_record(recs) if {
	some name in {n | some [n, _] in in_use_named}
	recs := [r | some [n, r] in in_use_named; n == name]
}

# in_use_named: [region/resolved id, record] for every in-use customer CMK
# record.
in_use_named := [[name, r] |
	some r in input.scan.keys
	in_use_customer_key(r)
	name := sprintf("%s/%s", [r.region, lib.canonical_key_id(r)])
]

pick_record(recs) := r if {
	some r in recs
	r.key_id == lib.canonical_key_id(r)
} else := r if {
	first := min({x.key_id | some x in recs})
	some r in recs
	r.key_id == first
}

# in_use_customer_key(k): a described, existing customer CMK that the
# estate uses. Every key record of a snapshot is there because a bucket
# default or an object named it, except the aliases of the profile's
# allow-list (scan.Config.ExtraKeyRefs), which are recorded only to resolve
# them: an alias record counts only when a bucket default names that alias
# (objects are recorded under the key id or key ARN the storage reports).
in_use_customer_key(k) if {
	not k.service_key == true
	not lib.is_service_key_id(k.key_id)
	not k.missing == true
	not lib.failed(k)
	not allow_list_only(k)
}

allow_list_only(k) if {
	is_alias_ref(k.key_id)
	not named_by_a_default(k.key_id)
}

is_alias_ref(ref) if startswith(ref, "alias/")

is_alias_ref(ref) if contains(ref, ":alias/")

named_by_a_default(ref) if default_key_refs[ref]

# default_key_refs: the KMS key references the bucket defaults name. The
# engine gives them as input.scan.default_kms_key_ids (bounded by the keys;
# the built-in rules get no input.scan.buckets, which grows with the
# buckets); stock opa eval on an input with the buckets computes them.
default_key_refs := {r | some r in input.scan.default_kms_key_ids} if {
	"default_kms_key_ids" in object.keys(input.scan)
} else := {r | some b in input.scan.buckets; r := b.encryption.kms_master_key_id}

# rotation_reasons(k): why an Enabled customer CMK fails the rotation rule.
rotation_reasons(k) := {r |
	some r in [rotation_status_reason(k), rotation_interval_reason(k)]
	r != ""
}

rotation_status_reason(k) := "KMS reported no automatic rotation status" if {
	object.get(k, "automatic_rotation", "") == ""
} else := sprintf("automatic rotation is %s; imported key material (origin EXTERNAL) cannot rotate automatically", [k.automatic_rotation]) if {
	k.automatic_rotation != "Enabled"
	object.get(k, "origin", "") == "EXTERNAL"
} else := sprintf("automatic rotation is %s", [k.automatic_rotation]) if {
	k.automatic_rotation != "Enabled"
} else := ""

rotation_interval_reason(k) := sprintf("the rotation interval is %v days, longer than the profile's maximum of %d days", [d, lib.profile.max_rotation_days]) if {
	k.automatic_rotation == "Enabled"
	d := interval_days(object.get(k, "rotation_interval", ""))
	d > lib.profile.max_rotation_days
} else := sprintf("automatic rotation is on but KMS reported no interval it could be read from (%q)", [object.get(k, "rotation_interval", "")]) if {
	k.automatic_rotation == "Enabled"
	not interval_days(object.get(k, "rotation_interval", ""))
} else := ""

# interval_days(s): a KMS rotation interval ("31536000s", as DescribeKey
# shows it, or "365d", "8760h", "525600m") in days; undefined otherwise.
interval_days(s) := (to_number(m[1]) * unit[m[2]]) / 86400 if {
	some m in regex.find_all_string_submatch_n(`^([0-9]+)([smhd])$`, s, 1)
}

days_or_null(s) := interval_days(s) if {
	interval_days(s)
} else := null

unit := {"s": 1, "m": 60, "h": 3600, "d": 86400}

# METADATA
# title: CMK pending deletion still protects objects
# description: >-
#   A customer CMK is scheduled for deletion while objects are still
#   encrypted under it. Until the deletion date the deletion can be
#   cancelled; after it, every object under the key is lost for good. This
#   is the key-level view of SSE-005, which lists each object (and its
#   bucket) that cannot be decrypted: one finding per key, whatever the
#   number of buckets and objects, carrying the deletion date to act
#   before. A key pending deletion that only a bucket default names is
#   SSE-003's.
# custom:
#   id: SSE-016
#   severity: critical
#   category: key
#   resource_type: key
#   remediation:
#     text: >-
#       Cancel the key's deletion before its deletion date. If the key must
#       go, first rewrite every object under it with another CMK (the SSE-005
#       findings list them), then schedule the deletion again.
#     cli: |-
#       aliyun kms CancelKeyDeletion --KeyId KEY_ID && aliyun kms EnableKey --KeyId KEY_ID
#       aws kms cancel-key-deletion --key-id KEY_ID && aws kms enable-key --key-id KEY_ID
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12(1)", title: "Cryptographic Key Establishment and Management | Availability"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.7.5", title: "Key management policies procedures are implemented to include the retirement, replacement, or destruction of keys used to protect stored account data"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	some ref in lib.bucket_key_ids
	k := lib.canonical_key(ref)
	k.state in {"PendingDeletion", "PendingReplicaDeletion"}
	not lib.is_service_key_ref(ref)
	id := lib.canonical_key_id(k)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": {"type": "key", "kms_key_id": id, "region": k.region},
		"message": sprintf("CMK %s in %s is pending deletion (deletion date %s) and still protects objects: once it is deleted they can never be decrypted (each is an SSE-005 finding)", [id, k.region, deletion_date(k)]),
		"observed": {
			"key_id": id,
			"arn": object.get(k, "arn", ""),
			"state": k.state,
			"delete_date": object.get(k, "delete_date", ""),
			"protects_objects": true,
		},
		"expected": {"key_state": "Enabled"},
		"evidence": [lib.key_evidence(k)],
	}
}

deletion_date(k) := k.delete_date if {
	object.get(k, "delete_date", "") != ""
} else := "not reported"
