# METADATA
# title: Object encryption
# description: >-
#   Rules on each object's own encryption state, as HEAD reported it: that it
#   is encrypted, that its KMS key can still decrypt it, and that the key is
#   one the organisation allows. Evaluated once per bucket over its objects.
# scope: package
package sseaudit.objects

import data.sseaudit.lib

# METADATA
# title: Object not encrypted
# description: >-
#   The object is stored without server-side encryption. When the bucket now
#   has a default rule the finding says whether the object was written before
#   the default was set, using scan history (when the current default was
#   first seen) or the previous snapshot where they exist: a default applies
#   only to new writes, so such objects stay unencrypted until rewritten.
# custom:
#   id: SSE-004
#   severity: high
#   category: encryption
#   resource_type: object
#   remediation:
#     text: >-
#       Rewrite the object so it is encrypted: copy it onto itself with the
#       required encryption (or under the bucket's default). Copy in place
#       with a tool that keeps metadata, ACLs and tags, and on a versioned
#       bucket decide what happens to the old unencrypted versions.
#     cli: |-
#       ossutil cp oss://BUCKET/KEY oss://BUCKET/KEY -f --meta "X-Oss-Server-Side-Encryption:KMS#X-Oss-Server-Side-Encryption-Key-Id:CMK_ID"
#       aws s3 cp s3://BUCKET/KEY s3://BUCKET/KEY --sse aws:kms --sse-kms-key-id CMK_ID --metadata-directive COPY
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.8", title: "Ensure server-side encryption is set to 'Encrypt with Service Key'"}
#     - {framework: "CIS Amazon Web Services Foundations Benchmark", version: "v1.5.0", id: "2.1.1", title: "Ensure all S3 buckets employ encryption-at-rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	some i in lib.objects_with_method("none")
	obj := b.objects[i]
	not lib.failed(obj)
	not obj.noncurrent # SSE-011
	ctx := default_context(b, obj)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("object is not encrypted; %s", [ctx.text]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"etag": obj.etag,
			"last_modified": obj.last_modified,
			"size": obj.size,
			"bucket_default": lib.default_method(b),
			"written_before_default": ctx.before,
			"basis": ctx.basis,
		},
		"expected": {"encrypted": true, "method_in": [m | some m in lib.profile.allowed_methods; m != "none"]},
		"evidence": [lib.object_evidence(obj), lib.rule_evidence(b)],
	}
}

# METADATA
# title: Noncurrent object version not encrypted
# description: >-
#   An older version of the object, kept by bucket versioning, is stored
#   without server-side encryption. Re-encrypting an object by copying it
#   onto itself (the usual remediation of SSE-004) writes a new, encrypted
#   current version and leaves the unencrypted bytes behind as this version,
#   readable by anyone allowed to read versions. Found only by a scan of
#   every version (scan --versions).
# custom:
#   id: SSE-011
#   severity: high
#   category: encryption
#   resource_type: object
#   remediation:
#     text: >-
#       Once the current version is encrypted, delete the unencrypted
#       noncurrent versions (after checking retention obligations), or let a
#       lifecycle rule expire noncurrent versions.
#     cli: |-
#       ossutil rm oss://BUCKET/KEY --version-id VERSION_ID
#       aws s3api delete-object --bucket BUCKET --key KEY --version-id VERSION_ID
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.8", title: "Ensure server-side encryption is set to 'Encrypt with Service Key'"}
#     - {framework: "CIS Amazon Web Services Foundations Benchmark", version: "v1.5.0", id: "2.1.1", title: "Ensure all S3 buckets employ encryption-at-rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	some i in lib.objects_with_method("none")
	obj := b.objects[i]
	not lib.failed(obj)
	obj.noncurrent
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("noncurrent version %s of the object is not encrypted (written %s): its bytes stay readable as a version whatever the current version's encryption", [lib.version(obj), obj.last_modified]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"version_id": lib.version(obj),
			"noncurrent": true,
			"etag": obj.etag,
			"last_modified": obj.last_modified,
			"size": obj.size,
			"bucket_versioning": object.get(b, "versioning", ""),
		},
		"expected": {"encrypted": true},
		"evidence": [lib.object_evidence(obj)],
	}
}

# default_context(b, obj): whether an unencrypted object predates the
# bucket's current default: {before: true|false|null, basis, text}. Certain
# answers come first: the previous snapshot saw another default after the
# object was written (before), or the default was already in place when it
# was written (after, so the default was not applied). Scan history alone
# only shows the object predates the default's first sighting.
default_context(b, obj) := {
	"before": null,
	"basis": "no_default",
	"text": "the bucket has no default encryption either",
} if {
	not lib.has_default(b)
} else := {
	"before": true,
	"basis": "previous_snapshot",
	"text": sprintf("the bucket now has default encryption %s; the object was written before the default was set (last modified %s; the previous scan at %s saw default %s)", [lib.rule_text(b.encryption), obj.last_modified, input.previous.read_at, lib.rule_text(input.previous.encryption)]),
} if {
	default_changed_since_previous
	lib.ns(obj.last_modified) <= lib.ns(input.previous.read_at)
} else := {
	"before": false,
	"basis": "history",
	"text": sprintf("it was written (last modified %s) after the bucket's default %s was in place (first seen by a scan at %s): the default was not applied to it", [obj.last_modified, lib.rule_text(b.encryption), input.rule_first_seen]),
} if {
	is_string(input.rule_first_seen)
	lib.ns(obj.last_modified) > lib.ns(input.rule_first_seen)
} else := {
	"before": false,
	"basis": "previous_snapshot",
	"text": sprintf("it was written (last modified %s) after the bucket's default %s was in place (already set at the previous scan at %s): the default was not applied to it", [obj.last_modified, lib.rule_text(b.encryption), input.previous.read_at]),
} if {
	is_object(input.previous)
	not default_changed_since_previous
	lib.ns(obj.last_modified) > lib.ns(input.previous.read_at)
} else := {
	"before": null,
	"basis": "previous_snapshot",
	"text": sprintf("the bucket now has default encryption %s, set after the previous scan at %s; the object was written (last modified %s) around then, so whether before or after the default was set cannot be told", [lib.rule_text(b.encryption), input.previous.read_at, obj.last_modified]),
} if {
	default_changed_since_previous
} else := {
	"before": true,
	"basis": "history",
	"text": sprintf("the bucket now has default encryption %s; the object was written before the default was set, as far as scan history shows (last modified %s, before the default was first seen by a scan at %s)", [lib.rule_text(b.encryption), obj.last_modified, input.rule_first_seen]),
} if {
	is_string(input.rule_first_seen)
} else := {
	"before": null,
	"basis": "none",
	"text": sprintf("the bucket now has default encryption %s; the object was most likely written before the default was set (no scan history to confirm)", [lib.rule_text(b.encryption)]),
}

default_changed_since_previous if {
	is_object(input.previous)
	lib.rule_fingerprint(input.previous.encryption) != lib.rule_fingerprint(input.bucket.encryption)
}

# METADATA
# title: Object encrypted with a KMS key that cannot decrypt it
# description: >-
#   The object is encrypted under a KMS key that is missing, disabled or
#   pending deletion: its data cannot be read (and, once a key pending
#   deletion is deleted, never will be).
# custom:
#   id: SSE-005
#   severity: critical
#   category: key
#   resource_type: object
#   remediation:
#     text: >-
#       Re-enable the key or cancel its deletion at once, then rewrite the
#       object under a key that will stay enabled. A key that is already
#       deleted cannot be recovered: restore the data from a copy.
#     cli: |-
#       aliyun kms CancelKeyDeletion --KeyId KEY_ID    # or: aliyun kms EnableKey --KeyId KEY_ID
#       aws kms cancel-key-deletion --key-id KEY_ID && aws kms enable-key --key-id KEY_ID
#   aggregate_by: [kms_key_id]
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12(1)", title: "Cryptographic Key Establishment and Management | Availability"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	# Keys first: buckets with no unusable key never look at their objects.
	some id, problem in unusable_keys
	b := input.bucket
	some i in lib.objects_with_key(id)
	obj := b.objects[i]
	not lib.failed(obj)
	k := lib.key_record(id)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("object is encrypted with KMS key %s, which is %s: its data cannot be decrypted", [id, problem]),
		"observed": {
			"method": obj.method,
			"kms_key_id": id,
			"key_state": object.get(k, "state", ""),
			"key_missing": object.get(k, "missing", false),
			"key_delete_date": object.get(k, "delete_date", ""),
			"problem": problem,
		},
		"expected": {"key_state": "Enabled"},
		"evidence": [lib.object_evidence(obj), lib.key_evidence(k)],
	}
}

# unusable_keys[id]: why key id, used by some object of the bucket, cannot decrypt.
unusable_keys[id] := problem if {
	some id in lib.object_key_ids
	problem := lib.key_unusable(lib.key_record(id))
}

# METADATA
# title: Object encrypted with a CMK outside the allowed list
# description: >-
#   The object is encrypted under a customer master key that is not on the
#   organisation profile's allowed_cmk_ids list. Objects under the service
#   key are not judged here (the bucket default rule SSE-002 is).
# custom:
#   id: SSE-006
#   severity: medium
#   category: key
#   resource_type: object
#   remediation:
#     text: >-
#       Rewrite the object under an allowed CMK, or, if the key is legitimate,
#       add it to allowed_cmk_ids in the profile after review.
#     cli: |-
#       ossutil cp oss://BUCKET/KEY oss://BUCKET/KEY -f --meta "X-Oss-Server-Side-Encryption:KMS#X-Oss-Server-Side-Encryption-Key-Id:ALLOWED_CMK_ID"
#       aws s3 cp s3://BUCKET/KEY s3://BUCKET/KEY --sse aws:kms --sse-kms-key-id ALLOWED_CMK_ID --metadata-directive COPY
#   aggregate_by: [kms_key_id]
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.9", title: "Ensure server-side encryption is set to 'Encrypt with BYOK'"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.7.7", title: "Key management policies and procedures are implemented to include the prevention of unauthorized substitution of cryptographic keys"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	some id in disallowed_keys
	b := input.bucket
	some i in lib.objects_with_key(id)
	obj := b.objects[i]
	# Any method that names a key (KMS, and S3's DSSE-KMS, recorded as
	# "other"): the allow-list is about the key, whatever wraps it.
	not lib.failed(obj)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("object is encrypted with CMK %s, which is not on the allowed list of profile %q", [id, lib.profile.name]),
		"observed": {"method": obj.method, "kms_key_id": id, "key_names": sort(lib.key_names(id))},
		"expected": {"kms_key_id_in": lib.profile.allowed_cmk_ids},
		"evidence": [lib.object_evidence(obj)],
	}
}

# disallowed_keys: customer CMKs used by the bucket's objects that the
# profile does not allow (empty when the profile allows every key).
disallowed_keys contains id if {
	count(lib.allowed_cmk_set) > 0
	some id in lib.object_key_ids
	not lib.is_service_key_ref(id)
	not lib.cmk_allowed(id)
}

# METADATA
# title: Object encryption weaker than the organisation requires
# description: >-
#   The object is encrypted, but with a method, key kind or cipher the
#   organisation profile does not allow: a method outside allowed_methods
#   (for example SSE-OSS/AES256 where KMS is required), the service key
#   where a customer CMK is required, or a cipher outside allowed_algorithms
#   (SM4, from the SSE header or OSS's data-encryption header, where AES-256
#   is required). A compliant bucket default does not make its objects
#   compliant: the default applies only to writes without encryption
#   headers. Noncurrent versions are judged too (their bytes stay readable
#   as versions). Unencrypted objects are SSE-004/SSE-011's, a CMK outside
#   allowed_cmk_ids is SSE-006's, an unrecognised record SSE-014's.
# custom:
#   id: SSE-013
#   severity: medium
#   category: encryption
#   resource_type: object
#   remediation:
#     text: >-
#       Rewrite the object with the encryption the profile requires (copy it
#       onto itself with the required method and customer CMK), and on a
#       versioned bucket remove the weaker noncurrent versions once the
#       current one is rewritten. Fix the writer that set the weaker headers,
#       or deny such writes with a bucket policy.
#     cli: |-
#       ossutil cp oss://BUCKET/KEY oss://BUCKET/KEY -f --meta "X-Oss-Server-Side-Encryption:KMS#X-Oss-Server-Side-Encryption-Key-Id:CMK_ID"
#       aws s3 cp s3://BUCKET/KEY s3://BUCKET/KEY --sse aws:kms --sse-kms-key-id CMK_ID --metadata-directive COPY
#   aggregate_by: [reasons]
#   controls:
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.8", title: "Ensure server-side encryption is set to 'Encrypt with Service Key'"}
#     - {framework: "CIS Alibaba Cloud Foundations Benchmark", version: "v2.0.0", id: "5.9", title: "Ensure server-side encryption is set to 'Encrypt with BYOK'"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-13", title: "Cryptographic Protection"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	some i in weak_objects
	obj := b.objects[i]
	not lib.failed(obj)
	reasons := object_weak_reasons(obj)
	count(reasons) > 0
	p := lib.profile
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("%sobject encryption %s does not meet profile %q: %s", [noncurrent_prefix(obj), object_text(obj), p.name, concat("; ", sort(reasons))]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"data_encryption": object.get(obj, "data_encryption", ""),
			"cipher": lib.object_cipher(obj),
			"kms_key_id": object.get(obj, "kms_key_id", ""),
			"noncurrent": object.get(obj, "noncurrent", false),
			"bucket_default": lib.default_method(b),
			"reasons": sort(reasons),
		},
		"expected": {
			"profile": p.name,
			"allowed_methods": p.allowed_methods,
			"require_customer_cmk": p.require_customer_cmk,
			"allowed_algorithms": p.allowed_algorithms,
		},
		"evidence": [lib.object_evidence(obj)],
	}
}

# weak_objects: positions of the objects that may fall short of the
# profile, found through the index so that a profile allowing everything
# looks at no object (and a cipher restriction only at the methods it can
# concern).
weak_objects contains i if {
	some m in lib.encrypted_methods
	not m in lib.profile.allowed_methods
	some i in lib.objects_with_method(m)
}

weak_objects contains i if {
	lib.profile.require_customer_cmk == true
	some m in {"kms-default", "oss-managed", "other"}
	some i in lib.objects_with_method(m)
}

weak_objects contains i if {
	lib.profile.require_customer_cmk == true
	some id in lib.object_key_ids
	lib.is_service_key_ref(id)
	some i in lib.objects_with_key(id)
}

weak_objects contains i if {
	some m in cipher_suspect_methods
	some i in lib.objects_with_method(m)
	not lib.object_cipher(input.bucket.objects[i]) in lib.profile.allowed_algorithms
}

# cipher_suspect_methods: the methods whose objects can have a cipher the
# profile does not allow. "other" can carry any cipher; AES256 objects
# (SSE-OSS or KMS) matter only when AES256 is not allowed, KMS objects with
# SM4 data encryption only when SM4 is not allowed.
cipher_suspect_methods contains "other"

cipher_suspect_methods contains m if {
	not "AES256" in lib.profile.allowed_algorithms
	some m in {"oss-managed", "kms-default", "kms-cmk"}
}

cipher_suspect_methods contains m if {
	not "SM4" in lib.profile.allowed_algorithms
	some m in {"kms-default", "kms-cmk"}
}

# object_weak_reasons(obj): why an encrypted object falls short.
object_weak_reasons(obj) := {r |
	some r in [
		method_reason(obj),
		cmk_reason(obj),
		cipher_reason(obj),
	]
	r != ""
}

method_reason(obj) := sprintf("method %s is not allowed", [obj.method]) if {
	obj.method in lib.encrypted_methods
	not obj.method in lib.profile.allowed_methods
} else := ""

cmk_reason(obj) := "a customer CMK is required, the object uses the service key (alias/acs/oss)" if {
	lib.profile.require_customer_cmk == true
	obj.method == "kms-default"
} else := sprintf("a customer CMK is required, the object uses the service key %s", [obj.kms_key_id]) if {
	lib.profile.require_customer_cmk == true
	obj.method == "kms-cmk"
	lib.is_service_key_ref(object.get(obj, "kms_key_id", ""))
} else := sprintf("a customer CMK is required, the object uses method %s, not KMS", [obj.method]) if {
	lib.profile.require_customer_cmk == true
	obj.method in {"oss-managed", "other"}
} else := ""

cipher_reason(obj) := sprintf("cipher %s is not allowed", [c]) if {
	obj.method in lib.encrypted_methods
	c := lib.object_cipher(obj)
	not c in lib.profile.allowed_algorithms
} else := ""

object_text(obj) := sprintf("%s (%s, key %s)", [obj.method, object.get(obj, "sse", ""), obj.kms_key_id]) if {
	object.get(obj, "kms_key_id", "") != ""
} else := sprintf("%s (%s)", [obj.method, object.get(obj, "sse", "")])

noncurrent_prefix(obj) := sprintf("noncurrent version %s: ", [lib.version(obj)]) if {
	obj.noncurrent == true
} else := ""

# METADATA
# title: Object encryption state not recognised
# description: >-
#   The object's record has no encryption method, or one no rule knows (not
#   none, oss-managed, kms-default, kms-cmk, sse-c or other), or "unknown" without
#   the error that would say why the state could not be read. Nothing can
#   tell whether such an object is encrypted, so it is reported, never
#   passed. Objects whose HEAD failed (an error recorded) are coverage gaps
#   (SSE-008) instead. The scanner never writes such a record: it comes from
#   a hand-made or damaged snapshot, or from a newer tool with methods this
#   policy version does not know.
# custom:
#   id: SSE-014
#   severity: high
#   category: encryption
#   resource_type: object
#   remediation:
#     text: >-
#       Scan the bucket again with this version of sseaudit (it records one
#       of the known methods, or an error) and compare with the snapshot that
#       held this record; if the snapshot came from elsewhere, fix its
#       producer. Until then treat the object as possibly unencrypted.
#     cli: |-
#       sseaudit scan --endpoint ENDPOINT --dialect oss --buckets BUCKET
#       ossutil stat oss://BUCKET/KEY
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28", title: "Protection of Information at Rest"}
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-28(1)", title: "Protection of Information at Rest | Cryptographic Protection"}
#     - {framework: "PCI DSS", version: "v4.0", id: "3.5.1", title: "PAN is rendered unreadable anywhere it is stored by using any of the following approaches"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	b := input.bucket
	some i in unrecognised_objects
	obj := b.objects[i]
	not lib.failed(obj)
	m := object.get(obj, "method", null)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("object encryption state not recognised: %s; whether it is encrypted cannot be told", [unrecognised_text(m)]),
		"observed": {
			"method": m,
			"sse": object.get(obj, "sse", ""),
			"kms_key_id": object.get(obj, "kms_key_id", ""),
			"noncurrent": object.get(obj, "noncurrent", false),
		},
		"expected": {"method_in": sort(lib.known_methods)},
		"evidence": [lib.object_evidence(obj)],
	}
}

# unrecognised_objects: positions of objects whose method is missing, not a
# string, or not one the rules know ("unknown" included: with an error it is
# SSE-008's, without one it is a record nobody can judge).
unrecognised_objects contains i if {
	some m in lib.object_methods
	not m in lib.known_methods
	some i in lib.objects_with_method(m)
}

unrecognised_objects contains i if some i in lib.objects_without_method

unrecognised_text(null) := "the record has no method"

unrecognised_text(m) := sprintf("method %v is not a string", [m]) if {
	m != null
	not is_string(m)
}

unrecognised_text(m) := "method \"unknown\" without the error that would say why" if {
	m == "unknown"
}

unrecognised_text(m) := "the method is empty" if {
	m == ""
}

unrecognised_text(m) := sprintf("method %q is not one of %s", [m, concat(", ", sort(lib.known_methods))]) if {
	is_string(m)
	not m in {"unknown", ""}
}

# METADATA
# title: Object encrypted with a customer-provided key (SSE-C)
# description: >-
#   The object is encrypted with a key its writer sends with every request
#   (S3 SSE-C): HEAD without that key answered 400, and a one-byte read
#   confirmed why. The data is encrypted, but the store cannot decrypt it
#   without the customer's key, so no service or role can read it unless
#   the key is handed round with the data; the key lives outside any KMS,
#   so its use, rotation and deletion appear in no KMS audit trail and no
#   scan can see its state (a lost key is lost data); and AWS blocks SSE-C
#   for new general purpose buckets since April 2026. Whether SSE-C is
#   acceptable is the organisation profile's choice: listing "sse-c" in
#   allowed_methods accepts it. Not reported as unencrypted (SSE-004) nor
#   as unrecognised (SSE-014).
# custom:
#   id: SSE-023
#   severity: medium
#   category: key
#   resource_type: object
#   remediation:
#     text: >-
#       Rewrite the object with SSE-KMS under a customer managed key (copy
#       it with its SSE-C key as the copy source's key and the KMS headers
#       for the destination), make the writers use SSE-KMS, and block SSE-C
#       on the bucket (BlockedEncryptionTypes SSE-C). If SSE-C is a
#       deliberate design, record it in the profile (allowed_methods: sse-c)
#       and keep the customer keys under documented key management.
#     cli: |-
#       aws s3api copy-object --bucket BUCKET --key KEY --copy-source BUCKET/KEY --copy-source-sse-customer-algorithm AES256 --copy-source-sse-customer-key fileb://KEYFILE --server-side-encryption aws:kms --ssekms-key-id CMK_ID
#       aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"CMK_ID"},"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12", title: "Cryptographic Key Establishment and Management"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	not "sse-c" in lib.profile.allowed_methods
	b := input.bucket
	some i in lib.objects_with_method("sse-c")
	obj := b.objects[i]
	not lib.failed(obj)
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("%sobject is encrypted with a customer-provided key (SSE-C), which profile %q does not allow: the store cannot decrypt it without the writer's key, which no KMS manages or audits", [noncurrent_prefix(obj), lib.profile.name]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"noncurrent": object.get(obj, "noncurrent", false),
			"bucket_ssec_blocked": object.get(b, "ssec_blocked", null),
		},
		"expected": {"method_in": lib.profile.allowed_methods},
		"evidence": [lib.object_evidence(obj)],
	}
}

# METADATA
# title: Encrypted object cannot be read back
# description: >-
#   The scan's read probe (scan --read-probe: a one-byte ranged GET) was
#   refused for an object whose HEAD says it is encrypted. HEAD is answered
#   from metadata; only a read makes the store decrypt, so this is where a
#   disabled, pending-deletion or deleted KMS key, a key the store can no
#   longer reach, or stored data that no longer authenticates shows, on any
#   store and without access to its KMS. The finding carries the store's
#   answer (status and code). A probe that got no answer (network error,
#   cancelled) is not reported here: the object is then only not probed.
# custom:
#   id: SSE-022
#   severity: critical
#   category: key
#   resource_type: object
#   remediation:
#     text: >-
#       Read the code: a key that is disabled or pending deletion can be
#       re-enabled or its deletion cancelled, after which the object reads
#       again; rewrite it under a key that will stay enabled. A key that is
#       gone, or data that fails authentication, cannot be repaired in
#       place: restore the object from a copy.
#     cli: |-
#       ossutil cat oss://BUCKET/KEY --range 0-0   # reproduce the refusal
#       aws s3api get-object --bucket BUCKET --key KEY --range bytes=0-0 /dev/null
#   aggregate_by: [code]
#   controls:
#     - {framework: "NIST SP 800-53", version: "Rev. 5", id: "SC-12(1)", title: "Cryptographic Key Establishment and Management | Availability"}
#     - {framework: "ISO/IEC 27001", version: "2022", id: "A.8.24", title: "Use of cryptography"}
deny contains finding if {
	# No probe ran: no object carries a probe result, none is looked at.
	input.provenance.read_probe
	b := input.bucket
	some obj in b.objects
	e := obj.read_error
	status := object.get(e, "status_code", 0)
	status >= 400
	code := object.get(e, "code", "")
	finding := {
		"rule": rego.metadata.rule().custom.id,
		"resource": lib.object_resource(b, obj),
		"message": sprintf("%sobject is encrypted (%s) but reading it back was refused: %v %s: %s", [noncurrent_prefix(obj), object_text(obj), status, code, object.get(e, "message", "")]),
		"observed": {
			"method": obj.method,
			"sse": object.get(obj, "sse", ""),
			"kms_key_id": object.get(obj, "kms_key_id", ""),
			"status_code": status,
			"code": code,
		},
		"expected": {"read_back": true},
		"evidence": [lib.object_evidence(obj), probe_evidence(e)],
	}
}

probe_evidence(e) := {
	"kind": "read_probe",
	"source": "GetObject (Range: bytes=0-0)",
	"data": {
		"status_code": object.get(e, "status_code", 0),
		"code": object.get(e, "code", ""),
		"message": object.get(e, "message", ""),
	},
}
