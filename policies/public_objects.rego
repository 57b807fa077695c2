# METADATA
# title: Unencrypted objects in public buckets
# description: >-
#   Objects stored without server-side encryption in a bucket anyone can
#   read (its ACL or policy; see SSE-018). Evaluated on each bucket's objects
#   a chunk at a time; the findings are aggregated per bucket. A private
#   bucket's objects are never looked at.
# scope: package
package sseaudit.public_objects

import data.sseaudit.access
import data.sseaudit.lib

# METADATA
# title: Public bucket holds unencrypted objects
# description: >-
#   The object is stored unencrypted in a bucket whose ACL or policy lets
#   anyone read: neither access control nor encryption at rest protects it.
#   On OSS anyone may read it unless its own ACL says otherwise; on S3 anyone
#   may list it, and read it when its own ACL allows (object ACLs are not
#   read by the scan). Encrypting it would not stop a public read (the
#   service decrypts for every reader it lets in): making the bucket private
#   comes first. Noncurrent versions are included. The object is also
#   SSE-004's (or SSE-011's).
# custom:
#   id: SSE-017
#   severity: critical
#   category: encryption
#   resource_type: object
#   remediation:
#     text: >-
#       Make the bucket private and turn on Block Public Access first, then
#       rewrite the objects encrypted (copy each onto itself with the
#       required encryption) and set a default encryption rule. Check access
#       logs for reads of the exposed objects.
#     cli: |-
#       ossutil set-acl oss://BUCKET private -b
#       aws s3api put-bucket-acl --bucket BUCKET --acl private && aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
#   aggregate_by: [exposure]
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "AC-3", title: "Access Enforcement"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.3", title: "Information access restriction"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	# The bucket first: a private bucket's objects are never looked at.
	reasons := access.read_exposure
	count(reasons) > 0
	b := input.bucket
	some i in lib.objects_with_method("none")
	obj := b.objects[i]
	not lib.failed(obj)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("%sobject is not encrypted and the bucket is publicly readable: %s; %s", [noncurrent_prefix(obj), concat("; ", sort(reasons)), access.dialect_note]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"etag": obj.etag,
			"last_modified": obj.last_modified,
			"size": obj.size,
			"noncurrent": object.get(obj, "noncurrent", false),
			"bucket_acl": object.get(b, ["acl", "canned"], null),
			"exposure": sort(reasons),
		},
		"expected": {"public_read": false, "encrypted": true},
		"evidence": [lib.object_evidence(obj), access.acl_evidence(b)],
	}
}

noncurrent_prefix(obj) := sprintf("noncurrent version %s: ", [lib.version(obj)]) if {
	obj.noncurrent == true
} else := ""
