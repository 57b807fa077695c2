# METADATA
# title: Existing objects across a change of the bucket default
# description: >-
#   Compares a bucket in two snapshots (input.previous and input.bucket).
#   Changing a bucket's default encryption must not touch existing objects:
#   the default applies only when an object is written. Evaluated once per
#   bucket when a previous snapshot is given.
# scope: package
package sseaudit.drift

import data.sseaudit.lib

# METADATA
# title: Existing object changed when the bucket default changed
# description: >-
#   Between two snapshots the bucket's default encryption changed, and an
#   existing object changed although it was not rewritten: its ETag and
#   LastModified are unchanged but its encryption state (method, SSE header,
#   KMS key) changed, or its ETag changed while LastModified did not, or its
#   LastModified moved backwards. A rewrite moves LastModified forward; that
#   is not reported, and neither is a rewrite journalled by 'sseaudit
#   remediate apply' (input.rewrites: the object went from exactly the
#   journalled before state to exactly the journalled after state), which
#   may land within the same second. This is a conformance failure of the
#   storage service, not a misconfiguration of the bucket.
# custom:
#   id: SSE-007
#   severity: high
#   category: conformance
#   resource_type: object
#   remediation:
#     text: >-
#       Report the behaviour to the storage provider with both snapshots as
#       evidence, and run the conformance suite's enable-on-existing-bucket feature
#       (tag @rule-no-touch) against the endpoint. Check the object's data still reads back
#       correctly. Do not change bucket defaults on this storage until fixed.
#     cli: |-
#       ossutil stat oss://BUCKET/KEY    # compare with both snapshots
#       aws s3api head-object --bucket BUCKET --key KEY
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SI-7", title: "Software, Firmware, and Information Integrity"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.5.22", title: "Monitoring, review and change management of supplier services"}
deny contains finding if {
	default_changed
	b := input.bucket
	some i in lib.changed_objects
	obj := b.objects[i]
	prev := input.previous.objects[obj.key][lib.version(obj)]
	not lib.failed(obj)
	not lib.failed(prev)
	not intended_rewrite(prev, obj)
	change := unexplained_change(prev, obj)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("storage conformance failure: the bucket default changed from %s to %s and this existing object changed without being rewritten: %s", [lib.rule_text(input.previous.encryption), lib.rule_text(b.encryption), change]),
		"observed": {
			"change": change,
			"previous": state(prev),
			"current": state(obj),
			"default_before": input.previous.encryption,
			"default_after": b.encryption,
		},
		"expected": {"unchanged": state(prev)},
		"evidence": [
			{
				"kind": "snapshot_diff",
				"source": "previous snapshot",
				"snapshot": lib.scan_id(input.previous_scan),
				"captured_at": input.previous.read_at,
				"data": {"scan": input.previous_scan, "object": state(prev), "default": input.previous.encryption},
			},
			{
				"kind": "snapshot_diff",
				"source": "current snapshot",
				"snapshot": lib.scan_id(input.provenance),
				"captured_at": b.read_at,
				"data": {"object": state(obj), "default": b.encryption},
			},
		],
	}
}

# default_changed: the bucket's default rule differs between the snapshots.
default_changed if {
	is_object(input.previous)
	lib.rule_fingerprint(input.previous.encryption) != lib.rule_fingerprint(input.bucket.encryption)
}

# unexplained_change(prev, obj): how the object changed without a rewrite.
unexplained_change(prev, obj) := "encryption state changed while ETag and LastModified stayed the same" if {
	prev.etag == obj.etag
	lib.same_time(prev.last_modified, obj.last_modified)
	lib.enc_state(prev) != lib.enc_state(obj)
} else := "ETag changed while LastModified stayed the same" if {
	prev.etag != obj.etag
	lib.same_time(prev.last_modified, obj.last_modified)
} else := "LastModified moved backwards" if {
	lib.ns(obj.last_modified) < lib.ns(prev.last_modified)
}

# intended_rewrite(prev, obj): a remediation journalled taking the object
# from prev (its version and ETag) to obj (its version, ETag and SSE). Any
# other change of the object, in the same bucket or of the same key, is
# not one.
intended_rewrite(prev, obj) if {
	some r in rewrites_of(obj.key)
	object.get(r.before, "version_id", "") == lib.version(prev)
	same_etag(r.before.etag, prev.etag)
	object.get(r.after, "version_id", "") == lib.version(obj)
	same_etag(r.after.etag, obj.etag)
	object.get(r.after, "sse", "") == object.get(obj, "sse", "")
}

# rewrites_of(key): input.rewrites[key], [] when input.rewrites is absent
# or null.
default rewrites_of(_) := []

rewrites_of(key) := object.get(input.rewrites, key, []) if is_object(input.rewrites)

same_etag(a, b) if lower(trim(a, "\"")) == lower(trim(b, "\""))

state(o) := {
	"etag": o.etag,
	"last_modified": o.last_modified,
	"method": o.method,
	"sse": object.get(o, "sse", ""),
	"kms_key_id": object.get(o, "kms_key_id", ""),
}
