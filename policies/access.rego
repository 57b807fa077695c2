# METADATA
# title: Bucket access
# description: >-
#   Rules on a bucket's access settings as they bear on encryption: a bucket
#   anyone can read or write (server-side encryption does not stop a public
#   read: the service decrypts for every reader it lets in), a bucket whose
#   only guard against unencrypted writes is its policy, a policy that
#   contradicts the bucket's default encryption, and access settings the
#   scan could not read. Evaluated once per bucket. Object ACLs are not read
#   by the scan; Block Public Access settings, which override ACLs and
#   policies, are not read either.
# scope: package
package sseaudit.access

import data.sseaudit.lib

# read_exposure: why anyone may read the bucket (empty: nobody).
read_exposure contains sprintf("the bucket ACL (%s) lets anyone read", [acl_text(input.bucket.acl)]) if {
	input.bucket.acl.public_read == true
}

read_exposure contains "the bucket policy lets anyone read its objects" if {
	input.bucket.policy.allows_public_read == true
}

# write_exposure: why anyone may write to the bucket.
write_exposure contains sprintf("the bucket ACL (%s) lets anyone write", [acl_text(input.bucket.acl)]) if {
	input.bucket.acl.public_write == true
}

acl_text(a) := a.canned if {
	a.canned != ""
} else := "custom grants"

# dialect_note: what a public bucket ACL lets anyone read, in the target's
# dialect.
dialect_note := "on S3 a bucket ACL lets anyone list the keys, and an object is readable by anyone when its own ACL allows it (object ACLs are not read by the scan)" if {
	input.provenance.target.dialect == "s3"
} else := "on OSS anyone may read every object whose own ACL is default, which is every object unless set otherwise (object ACLs are not read by the scan)"

# unencrypted_count: how many of the bucket's objects are stored unencrypted.
unencrypted_count := object.get(input.stats.by_method, "none", 0) if {
	is_object(input.stats)
} else := count(lib.objects_with_method("none"))

acl_evidence(b) := {
	"kind": "api_response",
	"source": "GetBucketAcl",
	"captured_at": b.read_at,
	"data": {"acl": object.get(b, "acl", null)},
}

policy_evidence(b) := {
	"kind": "api_response",
	"source": "GetBucketPolicy",
	"captured_at": b.read_at,
	"data": {"policy": object.get(b, "policy", null)},
}

# METADATA
# title: Bucket is publicly accessible
# description: >-
#   The bucket's ACL (OSS public-read or public-read-write; S3 a grant to
#   AllUsers or AuthenticatedUsers, which is any AWS account) or its policy
#   lets anyone read or write. Server-side encryption does not protect
#   against this: the service decrypts for every reader it lets in, so an
#   encrypted object in a public bucket is as readable as an unencrypted one.
#   Unencrypted objects in such a bucket are SSE-017's as well.
# custom:
#   id: SSE-018
#   severity: medium
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Make the bucket private, remove policy statements that allow anyone
#       to read, and turn on Block Public Access so that neither can make it
#       public again. Share objects through signed URLs or named principals
#       instead.
#     cli: |-
#       ossutil set-acl oss://BUCKET private -b
#       aws s3api put-bucket-acl --bucket BUCKET --acl private && aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "AC-3", title: "Access Enforcement"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.3", title: "Information access restriction"}
deny contains finding if {
	b := input.bucket
	reasons := read_exposure | write_exposure
	count(reasons) > 0
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket is publicly accessible: %s; server-side encryption does not protect against this (the service decrypts for every reader it lets in); %s", [concat("; ", sort(reasons)), dialect_note]),
		"observed": {
			"acl": object.get(b, ["acl", "canned"], null),
			"public_read": count(read_exposure) > 0,
			"public_write": count(write_exposure) > 0,
			"policy_allows_public_read": object.get(b, ["policy", "allows_public_read"], false),
			"exposure": sort(reasons),
			"objects": lib.bucket_object_count,
			"unencrypted_objects": unencrypted_count,
		},
		"expected": {"public_read": false, "public_write": false},
		"evidence": [acl_evidence(b), policy_evidence(b)],
	}
}

# METADATA
# title: Bucket policy is the only guard against unencrypted writes
# description: >-
#   The bucket has no default encryption rule; only its policy denies
#   uploads without encryption headers. Whatever the policy does not cover
#   is stored unencrypted: a principal or path a later edit of the policy
#   leaves out, a statement removed, writes the service makes itself. A
#   default rule encrypts every write that names no encryption, whoever
#   sends it. (The missing default is also SSE-001's.)
# custom:
#   id: SSE-019
#   severity: medium
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Keep the policy and also set a default encryption rule with the
#       method and key the policy requires, so that the two agree.
#     cli: |-
#       ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS --kms-masterkey-id CMK_ID
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"CMK_ID"}}]}'
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	b.policy.status == "set"
	b.policy.denies_unencrypted_put == true
	not lib.has_default(b)
	not lib.present(b, "encryption_error")
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket has no default encryption; only its policy denies unencrypted uploads%s: writes the policy does not cover are stored unencrypted", [required_text(b.policy)]),
		"observed": {
			"default_encryption": null,
			"policy_denies_unencrypted_put": true,
			"policy_required_sse": object.get(b.policy, "required_sse", ""),
			"policy_required_kms_key_ids": object.get(b.policy, "required_kms_key_ids", []),
		},
		"expected": {"default_encryption": "set, agreeing with the policy"},
		"evidence": [lib.rule_evidence(b), policy_evidence(b)],
	}
}

required_text(p) := sprintf(" (it requires %s)", [concat(" with key ", array.concat([object.get(p, "required_sse", "")], keys_text(p)))]) if {
	object.get(p, "required_sse", "") != ""
} else := ""

keys_text(p) := [concat(" or ", p.required_kms_key_ids)] if {
	count(object.get(p, "required_kms_key_ids", [])) > 0
} else := []

# METADATA
# title: Bucket policy contradicts the default encryption
# description: >-
#   The bucket policy requires one encryption (an algorithm, or particular
#   KMS keys) and the bucket's default rule says another. A policy tests the
#   headers of the request, not the default: uploads that send no
#   encryption headers and rely on the default are denied, and every upload
#   the policy lets through names its own encryption, so the default never
#   applies. One of the two does not say what is intended, and the profile
#   rules judge the default (SSE-002) while objects get the policy's.
# custom:
#   id: SSE-020
#   severity: medium
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Decide which encryption the bucket is meant to have, then set the
#       default rule to it and make the policy require the same algorithm and
#       key (or drop the policy's key condition).
#     cli: |-
#       ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS --kms-masterkey-id POLICY_CMK_ID
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"POLICY_CMK_ID"}}]}'
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	b.policy.status == "set"
	lib.has_default(b)
	reasons := contradictions
	count(reasons) > 0
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket policy contradicts the default encryption %s: %s; uploads that rely on the default (no encryption headers) are denied", [lib.rule_text(b.encryption), concat("; ", sort(reasons))]),
		"observed": {
			"default_algorithm": default_algorithm(b.encryption),
			"default_kms_master_key_id": object.get(b.encryption, "kms_master_key_id", ""),
			"policy_required_sse": object.get(b.policy, "required_sse", ""),
			"policy_required_kms_key_ids": object.get(b.policy, "required_kms_key_ids", []),
			"reasons": sort(reasons),
		},
		"expected": {"default_matches_policy": true},
		"evidence": [lib.rule_evidence(b), policy_evidence(b)],
	}
}

# default_algorithm(r): the default's algorithm in the policy facts'
# vocabulary (AES256, KMS, or as the endpoint said).
default_algorithm(r) := "AES256" if {
	r.method == "oss-managed"
} else := "KMS" if {
	r.method in {"kms-default", "kms-cmk"}
} else := r.algorithm

contradictions contains sprintf("the policy requires %s, the default is %s", [req, got]) if {
	req := object.get(input.bucket.policy, "required_sse", "")
	req != ""
	got := default_algorithm(input.bucket.encryption)
	req != got
}

contradictions contains sprintf("the policy requires KMS key %s, the default uses %s", [concat(" or ", ids), what]) if {
	ids := object.get(input.bucket.policy, "required_kms_key_ids", [])
	count(ids) > 0
	r := input.bucket.encryption
	default_algorithm(r) == "KMS"
	kid := object.get(r, "kms_master_key_id", "")
	not some_same_key(kid, ids)
	what := default_key_text(kid)
}

some_same_key(kid, ids) if {
	kid != ""
	some id in ids
	lib.same_key(kid, id)
}

default_key_text("") := "the service key"

default_key_text(kid) := sprintf("key %s", [kid]) if kid != ""

# METADATA
# title: Bucket access settings not read
# description: >-
#   The bucket's ACL or policy could not be read (the scanning principal
#   lacks GetBucketAcl or GetBucketPolicy, or the request failed), or the
#   policy could not be parsed: whether the bucket is public, and whether a
#   policy guards its writes, is unknown. An endpoint that does not
#   implement bucket policies at all is recorded as policy status unknown,
#   a note rather than this gap.
# custom:
#   id: SSE-021
#   severity: low
#   category: coverage
#   resource_type: bucket
#   remediation:
#     text: >-
#       Grant the scanning principal oss:GetBucketAcl and oss:GetBucketPolicy
#       (S3: s3:GetBucketAcl, s3:GetBucketPolicy) and scan again; if the
#       policy could not be parsed, check it with the service's own tools.
#     cli: |-
#       sseaudit scan --endpoint ENDPOINT --dialect oss --buckets BUCKET
#       aws s3api get-bucket-policy --bucket BUCKET
#   controls: []
deny contains finding if {
	b := input.bucket
	gaps := access_gaps
	count(gaps) > 0
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket access settings not read, so whether it is public or guarded by a policy is unknown: %s", [concat("; ", sort(gaps))]),
		"observed": {"gaps": sort(gaps)},
		"expected": {"access_read": true},
		"evidence": [e |
			some f in ["acl_error", "policy_error"]
			err := b[f]
			err != null
			e := {"kind": "coverage_error", "source": f, "captured_at": b.read_at, "data": err}
		],
	}
}

access_gaps contains sprintf("the ACL could not be read (%s)", [lib.error_text(e)]) if {
	e := input.bucket.acl_error
	is_object(e)
	object.get(e, "status_code", 0) != 501
}

access_gaps contains sprintf("the policy could not be read (%s)", [lib.error_text(input.bucket.policy_error)]) if {
	is_object(input.bucket.policy_error)
}

access_gaps contains sprintf("the policy could not be parsed (%s)", [input.bucket.policy.parse_error]) if {
	object.get(input.bucket.policy, "parse_error", "") != ""
}
