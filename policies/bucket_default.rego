# METADATA
# title: Bucket default encryption
# description: >-
#   Rules on a bucket's default server-side encryption rule: that there is
#   one, that it is as strong as the organisation profile requires, and that
#   the KMS key it names can be used. Evaluated once per bucket.
# scope: package
package sseaudit.bucket_default

import data.sseaudit.lib

# METADATA
# title: Bucket has no default encryption
# description: >-
#   The bucket has no default server-side encryption rule, so every object
#   written without encryption headers is stored unencrypted. A bucket whose
#   rule could not be read is not judged here (its state is unknown; see
#   SSE-008).
# custom:
#   id: SSE-001
#   severity: high
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Set a default encryption rule on the bucket, with the method and key
#       the organisation profile requires (KMS with a customer CMK for CIS
#       5.9). The default applies only to new writes: re-encrypt existing
#       objects separately (see SSE-004).
#     cli: |-
#       ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS --kms-masterkey-id CMK_ID
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"CMK_ID"}}]}'
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.8", title: "Ensure server-side encryption is set to 'Encrypt with Service Key'"}
#     - {framework: "CIS Amazon Web Services Foundations Benchmark", version: "v1.5.0", id: "2.1.1", title: "Ensure all S3 buckets employ encryption-at-rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	not lib.has_default(b)
	not lib.present(b, "encryption_error")
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": "bucket has no default server-side encryption rule: objects written without encryption headers are stored unencrypted",
		"observed": {"default_encryption": null},
		"expected": {"default_method_in": lib.profile.allowed_methods},
		"evidence": [lib.rule_evidence(b)],
	}
}

# METADATA
# title: Bucket default encryption weaker than the organisation requires
# description: >-
#   The bucket's default rule uses a method, key or algorithm the organisation
#   profile does not allow: a method outside allowed_methods, the service key
#   alias/acs/oss where a customer CMK is required, a CMK outside
#   allowed_cmk_ids, or a cipher outside allowed_algorithms (for example SM4
#   where AES-256 is required).
# custom:
#   id: SSE-002
#   severity: medium
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Replace the bucket's default rule with one the profile allows (method,
#       customer CMK from the allowed list, AES-256). Existing objects keep
#       their old encryption until they are rewritten.
#     cli: |-
#       ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS --kms-masterkey-id ALLOWED_CMK_ID
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"ALLOWED_CMK_ID"}}]}'
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.8", title: "Ensure server-side encryption is set to 'Encrypt with Service Key'"}
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.9", title: "Ensure server-side encryption is set to 'Encrypt with BYOK'"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-13", title: "Cryptographic Protection"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	lib.has_default(b)
	reasons := weak_reasons
	count(reasons) > 0
	p := lib.profile
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket default encryption %s does not meet profile %q: %s", [lib.rule_text(b.encryption), p.name, concat("; ", sort(reasons))]),
		"observed": {
			"method": object.get(b.encryption, "method", ""),
			"algorithm": object.get(b.encryption, "algorithm", ""),
			"cipher": lib.cipher(b.encryption),
			"kms_master_key_id": object.get(b.encryption, "kms_master_key_id", ""),
			"kms_data_encryption": object.get(b.encryption, "kms_data_encryption", ""),
			"customer_cmk": lib.is_customer_cmk(b.encryption),
			"reasons": sort(reasons),
		},
		"expected": {
			"profile": p.name,
			"allowed_methods": p.allowed_methods,
			"require_customer_cmk": p.require_customer_cmk,
			"allowed_cmk_ids": p.allowed_cmk_ids,
			"allowed_algorithms": p.allowed_algorithms,
		},
		"evidence": [lib.rule_evidence(b)],
	}
}

weak_reasons contains sprintf("method %s is not allowed", [lib.method_text(r)]) if {
	r := input.bucket.encryption
	not object.get(r, "method", "") in lib.profile.allowed_methods
}

weak_reasons contains sprintf("a customer CMK is required, the default uses %s", [what]) if {
	r := input.bucket.encryption
	lib.profile.require_customer_cmk == true
	not lib.customer_cmk(r)
	what := cmk_shortfall(r)
}

weak_reasons contains sprintf("CMK %s is not on the allowed list", [id]) if {
	r := input.bucket.encryption
	is_object(r)
	id := object.get(r, "kms_master_key_id", "")
	id != ""
	not lib.is_service_key_ref(id) # any method naming a key: KMS, DSSE-KMS
	not lib.cmk_allowed(id)
}

weak_reasons contains sprintf("cipher %s is not allowed", [c]) if {
	lib.has_default(input.bucket)
	c := lib.cipher(input.bucket.encryption)
	not c in lib.profile.allowed_algorithms
}

cmk_shortfall(r) := "the service key (alias/acs/oss)" if {
	r.method == "kms-default"
} else := "the service key" if {
	r.method == "kms-cmk"
} else := sprintf("method %s, not KMS", [lib.method_text(r)])

# METADATA
# title: Bucket default names a KMS key that cannot be used
# description: >-
#   The bucket's default rule names a customer CMK that KMS reports missing,
#   disabled or pending deletion, or that lives in another region than the
#   bucket. Writes that rely on the default will fail (or, on a lenient
#   store, be stored under a key that cannot decrypt them).
# custom:
#   id: SSE-003
#   severity: high
#   category: key
#   resource_type: bucket
#   remediation:
#     text: >-
#       Re-enable the key or cancel its deletion, or point the bucket default
#       at an enabled CMK in the bucket's own region.
#     cli: |-
#       aliyun kms EnableKey --KeyId CMK_ID    # or: aliyun kms CancelKeyDeletion --KeyId CMK_ID
#       ossutil bucket-encryption --method put oss://BUCKET --sse-algorithm KMS --kms-masterkey-id ENABLED_CMK_IN_REGION
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12(1)", title: "Cryptographic Key Establishment and Management | Availability"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	r := b.encryption
	is_object(r)
	id := object.get(r, "kms_master_key_id", "")
	id != ""
	not lib.is_service_key_ref(id) # any method naming a key: KMS, DSSE-KMS
	k := lib.key_record(id)
	problem := default_key_problem(k, b.region)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket default names CMK %s, which is %s: new writes that rely on the default will fail", [id, problem]),
		"observed": {
			"kms_master_key_id": id,
			"key_state": object.get(k, "state", ""),
			"key_missing": object.get(k, "missing", false),
			"key_region": object.get(k, "region", ""),
			"bucket_region": b.region,
			"problem": problem,
		},
		"expected": {"key_state": "Enabled", "key_region": b.region},
		"evidence": [lib.rule_evidence(b), lib.key_evidence(k)],
	}
}

default_key_problem(k, region) := p if {
	p := lib.key_unusable(k)
} else := sprintf("in region %s, not the bucket's region %s", [k.region, region]) if {
	k.region != ""
	region != ""
	k.region != region
}

# METADATA
# title: Bucket accepts writes encrypted with customer-provided keys (SSE-C)
# description: >-
#   The bucket's encryption configuration unblocks SSE-C
#   (BlockedEncryptionTypes NONE), so any writer may store objects only
#   its own key can decrypt, outside KMS management and audit (see
#   SSE-023). AWS blocks SSE-C for new general purpose buckets since April
#   2026. Judged only where the store reports the setting (S3); a profile
#   that lists "sse-c" in allowed_methods accepts it.
# custom:
#   id: SSE-024
#   severity: low
#   category: encryption
#   resource_type: bucket
#   remediation:
#     text: >-
#       Block SSE-C on the bucket: put its encryption configuration again
#       with BlockedEncryptionTypes SSE-C. Existing SSE-C objects stay
#       readable with their keys; rewrite them under SSE-KMS (SSE-023).
#     cli: |-
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"CMK_ID"},"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	object.get(b, "ssec_blocked", null) == false
	not "sse-c" in lib.profile.allowed_methods
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.bucket_resource(b),
		"message": sprintf("bucket accepts SSE-C writes (BlockedEncryptionTypes NONE), which profile %q does not allow: writers can store objects only their own keys decrypt", [lib.profile.name]),
		"observed": {"ssec_blocked": false},
		"expected": {"ssec_blocked": true},
		"evidence": [lib.rule_evidence(b)],
	}
}
