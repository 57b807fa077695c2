# METADATA
# title: sseaudit helpers
# description: >-
#   Helpers shared by the built-in rules and available to user policies
#   (import data.sseaudit.lib). No rule here produces findings.
# scope: package
package sseaudit.lib

# Default organisation profile: any encryption is acceptable, with AES-256 or
# SM4. Mirrors policy.DefaultProfile in Go (a Go test checks they agree); the
# engine always passes a complete input.profile, this default only matters
# when the policies run under stock `opa eval` without one.
default_profile := {
	"name": "default",
	"allowed_methods": ["oss-managed", "kms-default", "kms-cmk", "other"],
	"require_customer_cmk": false,
	"allowed_cmk_ids": [],
	"allowed_algorithms": ["AES256", "SM4"],
	"max_rotation_days": 365,
}

# The organisation profile in force: input.profile over the default.
profile := object.union(default_profile, input.profile) if {
	is_object(input.profile)
} else := default_profile

# KMS aliases of the storage service's own key.
service_key_aliases := {"alias/acs/oss", "alias/aws/s3"}

# Object methods (package snapshot's Method* values). "unknown" is written
# only with an error saying why the state could not be read; any other
# value, or none, is a record no rule can judge (SSE-014).
known_methods := {"none", "oss-managed", "kms-default", "kms-cmk", "sse-c", "other"}

# The methods that mean "encrypted" by a key the store holds. SSE-C
# ("sse-c": the writer's own key, sent with every request) is encrypted
# too, but judged by its own rule (SSE-023), not by SSE-013's method and
# cipher checks.
encrypted_methods := {"oss-managed", "kms-default", "kms-cmk", "other"}

# present(o, f): field f of object o is set and not null.
present(o, f) if object.get(o, f, null) != null

# failed(o): an object (or bucket) record carries an error.
failed(o) if present(o, "error")

# error_text(e): one line for a snapshot Error.
error_text(e) := sprintf("%s %v %s: %s", [e.scope, object.get(e, "status_code", 0), object.get(e, "code", ""), e.message])

# has_default(b): the bucket has a default encryption rule.
has_default(b) if is_object(b.encryption)

# default_method(b): the method of the bucket's default rule, or "none".
default_method(b) := b.encryption.method if {
	has_default(b)
} else := "none"

# cipher(r): the block cipher a rule or object record implies: SM4 when the
# algorithm or the KMS data encryption says so, AES256 for AES256/KMS.
cipher(r) := "SM4" if {
	upper(object.get(r, "algorithm", "")) == "SM4"
} else := "SM4" if {
	upper(object.get(r, "kms_data_encryption", "")) == "SM4"
} else := "AES256" if {
	upper(object.get(r, "algorithm", "")) in {"AES256", "KMS", "AWS:KMS", "AWS:KMS:DSSE"}
} else := upper(object.get(r, "algorithm", ""))

# object_cipher(o): the block cipher an object record implies: SM4 when
# its SSE header or OSS's data-encryption header says so, AES256 for
# AES256/KMS/aws:kms/aws:kms:dsse, else the SSE header as given.
object_cipher(o) := "SM4" if {
	upper(object.get(o, "sse", "")) == "SM4"
} else := "SM4" if {
	upper(object.get(o, "data_encryption", "")) == "SM4"
} else := "AES256" if {
	upper(object.get(o, "sse", "")) in {"AES256", "KMS", "AWS:KMS", "AWS:KMS:DSSE"}
} else := upper(object.get(o, "sse", ""))

# rule_fingerprint(r): what identifies a default rule (null = no default).
# The key is compared by id (bare_key_id): a rule re-written to name its key
# by ARN instead of id names the same key.
rule_fingerprint(r) := "none" if {
	not is_object(r)
} else := [
	object.get(r, "method", ""),
	bare_key_id(object.get(r, "kms_master_key_id", "")),
	upper(object.get(r, "algorithm", "")),
	upper(object.get(r, "kms_data_encryption", "")),
]

# rule_text(r): a rule for messages.
rule_text(r) := "none" if {
	not is_object(r)
} else := sprintf("%s (%s, key %s)", [method_text(r), object.get(r, "algorithm", ""), object.get(r, "kms_master_key_id", "")]) if {
	present(r, "kms_master_key_id")
} else := sprintf("%s (%s)", [method_text(r), object.get(r, "algorithm", "")])

# method_text(r): the method of a rule or object record for messages,
# "(missing)" when the record has none.
method_text(r) := r.method if {
	is_string(r.method)
	r.method != ""
} else := "(missing)"

# enc_state(o): an object's encryption state, for comparisons. The key is
# compared by id (bare_key_id): S3 names an object's key by ARN, so a
# snapshot that recorded the bare id and one that recorded the ARN of the
# same key agree.
enc_state(o) := [o.method, object.get(o, "sse", ""), bare_key_id(object.get(o, "kms_key_id", ""))]

# version(o): an object's version id, "" when unversioned.
version(o) := object.get(o, "version_id", "")

# ns(t): an RFC 3339 time in nanoseconds.
ns(t) := time.parse_rfc3339_ns(t)

# same_time(a, b): two RFC 3339 times are the same instant.
same_time(a, b) if a == b

same_time(a, b) if {
	a != b
	ns(a) == ns(b)
}

# is_service_key_id(id): id names the service's own key by alias.
is_service_key_id(id) if id in service_key_aliases

# Key references are compared after resolution. A bucket rule, an object or
# an allow-list entry names a KMS key by id, by alias (alias/x), or by ARN
# (acs:kms:REGION:ACCOUNT:key/ID, arn:aws:kms:REGION:ACCOUNT:key/ID, or an
# alias ARN). key_names(ref) is every name the reference is known by: the
# reference itself, the id inside a key ARN, and for each key record the
# snapshot holds under those names (input.keys is indexed by key_id, arn and
# resolved_key_id) that record's key_id, arn and resolved_key_id, with the
# ids inside those ARNs. Two references name the same key when their name
# sets meet. An alias resolves only through a key record: the scanner writes
# one for every alias a bucket or object uses, and for the profile's
# allowed_cmk_ids when the caller passes them (scan.Config.ExtraKeyRefs).
# Alias ARNs are not reduced to the bare alias: an alias is per region.

# bare_key_id(ref): the key id inside a key ARN, or ref itself.
bare_key_id(ref) := parts[1] if {
	is_string(ref)
	contains(ref, ":key/") # cheap test first: most references are bare ids
	regex.match(`^(acs|arn:[a-z-]+):kms:`, ref)
	parts := split(ref, ":key/")
	count(parts) == 2
	parts[1] != ""
} else := ref

# key_records(ref): the snapshot's key records for a reference.
key_records(ref) := {r |
	some n in {ref, bare_key_id(ref)}
	r := input.keys[n]
}

# key_names(ref): every name the reference resolves to (see above).
key_names(ref) := {n |
	some n in array.concat([ref, bare_key_id(ref)], [x |
		some r in key_records(ref)
		some f in ["key_id", "arn", "resolved_key_id"]
		v := object.get(r, f, "")
		some x in [v, bare_key_id(v)]
	])
	is_string(n)
	n != ""
}

# same_key(a, b): references a and b name the same key.
same_key(a, b) if {
	count(key_names(a) & key_names(b)) > 0
}

# is_service_key_ref(ref): the reference names the storage service's own
# key, by alias or because KMS says the service created it.
is_service_key_ref(ref) if is_service_key_id(ref)

is_service_key_ref(ref) if {
	some r in key_records(ref)
	r.service_key == true
}

is_service_key_ref(ref) if {
	some r in key_records(ref)
	is_service_key_id(object.get(r, "key_id", ""))
}

# canonical_key_id(k): the key id a record stands for: the id KMS resolved
# an alias or ARN to, else the id inside an ARN, else the reference.
canonical_key_id(k) := k.resolved_key_id if {
	object.get(k, "resolved_key_id", "") != ""
} else := bare_key_id(k.key_id)

# key_record(ref): the snapshot's key record for a reference: under the
# reference itself, else under the id inside a key ARN (S3 names an
# object's key by ARN; the scanner records each key once, under its id).
key_record(ref) := input.keys[ref] if {
	input.keys[ref]
} else := input.keys[bare_key_id(ref)]

# canonical_key(ref): the record that stands for the key ref names, the
# same whichever of the key's names ref is (a key named by alias in one
# bucket and by id in another yields one record, so one finding).
canonical_key(ref) := object.get(input.keys, canonical_key_id(r), r) if {
	r := key_record(ref)
}

# key_unusable(k): why data under key k cannot be read or written, if so.
key_unusable(k) := "missing (KMS says the key does not exist)" if {
	k.missing == true
} else := "disabled" if {
	k.state == "Disabled"
} else := "pending deletion" if {
	k.state in {"PendingDeletion", "PendingReplicaDeletion"}
} else := "unavailable" if {
	k.state == "Unavailable"
} else := "pending import (no key material)" if {
	k.state == "PendingImport"
}

# customer_cmk(r): a default rule encrypts with a customer master key (not
# the service key alias/acs/oss, under any of its names).
customer_cmk(r) if {
	r.method == "kms-cmk"
	id := object.get(r, "kms_master_key_id", "")
	id != ""
	not is_service_key_ref(id)
}

# is_customer_cmk(r): customer_cmk as a boolean.
is_customer_cmk(r) if {
	customer_cmk(r)
} else := false

allowed_cmk_set := {id | some id in profile.allowed_cmk_ids}

# cmk_allowed(id): the key is on the profile's allowed CMK list, compared
# after resolution (key_names): an entry and a reference match when they
# share a name, whether each is an id, an alias or an ARN. An empty list
# allows every key.
cmk_allowed(_) if count(allowed_cmk_set) == 0

cmk_allowed(id) if id in allowed_cmk_set

cmk_allowed(id) if {
	names := key_names(id)
	some entry in allowed_cmk_set
	count(names & key_names(entry)) > 0
}

# Object lookups. The engine passes input.index, positions of the bucket's
# objects (in input.bucket.objects) by method, by KMS key id, and of those
# with an error, so rules touch only the objects that matter instead of
# scanning every object. Without an index (stock `opa eval`, unit tests) the
# same lists are computed here.

# objects_with_method(m): positions of the objects whose method is m.
objects_with_method(m) := object.get(input.index.by_method, m, []) if {
	is_object(input.index)
} else := [i | some i, o in input.bucket.objects; o.method == m]

# objects_without_method: positions of the objects with no method member,
# or one that is not a string (a record no rule can judge).
objects_without_method := input.index.no_method if {
	is_array(input.index.no_method)
} else := [i | some i, o in input.bucket.objects; not is_string(object.get(o, "method", null))]

# object_methods: the distinct (string) methods of the bucket's objects.
object_methods := {m | some m, _ in input.index.by_method} if {
	is_object(input.index)
} else := {m | some o in input.bucket.objects; m := o.method; is_string(m)}

# objects_with_key(id): positions of the objects encrypted under KMS key id.
objects_with_key(id) := object.get(input.index.by_kms_key, id, []) if {
	is_object(input.index)
} else := [i | some i, o in input.bucket.objects; o.kms_key_id == id]

# failed_objects: positions of the objects whose HEAD failed.
failed_objects := input.index.failed if {
	is_object(input.index)
} else := [i | some i, o in input.bucket.objects; o.error != null]

# changed_objects: positions of the objects also in input.previous whose
# state (lib.object_state) differs there; [] without a previous snapshot.
changed_objects := object.get(input.index, "changed", []) if {
	is_object(input.index)
	is_array(input.index.changed)
} else := [i |
	is_object(input.previous)
	some i, o in input.bucket.objects
	p := input.previous.objects[o.key][version(o)]
	object_state(p) != object_state(o)
]

# object_state(o): what an object's content and encryption come down to.
# Absent fields count as "" (as in the engine's index).
object_state(o) := [object.get(o, f, "") | some f in state_fields]

state_fields := ["etag", "last_modified", "size", "storage_class", "method", "sse", "kms_key_id", "data_encryption"]

# object_key_ids: the distinct KMS key ids the bucket's objects use.
object_key_ids := {id | some id, _ in input.index.by_kms_key} if {
	is_object(input.index)
} else := {id | some obj in input.bucket.objects; id := obj.kms_key_id}

# Whole-bucket facts. The engine evaluates the object rules on a bucket's
# objects a chunk at a time (input.bucket.objects holds at most a chunk),
# and the rules about a bucket once, after its last object, with
# input.stats: the same facts over every object, in bounded size. Rules
# about a bucket read these helpers, which fall back to input.bucket.objects
# when input.stats is absent (stock `opa eval` over a snapshot, unit tests).

# bucket_object_count: how many object records the bucket has.
bucket_object_count := input.stats.objects if {
	is_object(input.stats)
} else := count(input.bucket.objects)

# bucket_key_ids: the distinct KMS key ids the bucket's objects use.
bucket_key_ids := {id | some id, _ in input.stats.by_kms_key} if {
	is_object(input.stats)
} else := object_key_ids

# bucket_failed_count: how many of the bucket's objects have a failed HEAD.
bucket_failed_count := input.stats.failed if {
	is_object(input.stats)
} else := count(failed_objects)

# bucket_failed_sample: up to five objects whose HEAD failed, first by key
# (then by position): {key, error} each.
bucket_failed_sample := input.stats.failed_sample if {
	is_object(input.stats)
} else := [{"key": p[0], "error": input.bucket.objects[p[1]].error} |
	some p in array.slice(sort([[o.key, i] | some i in failed_objects; o := input.bucket.objects[i]]), 0, 5)
]

# Resources, as the engine expects them (it derives the canonical UID).
bucket_resource(b) := {"type": "bucket", "bucket": b.name, "region": b.region}

object_resource(b, o) := {
	"type": "object",
	"bucket": b.name,
	"region": b.region,
	"key": o.key,
	"version_id": version(o),
}

key_resource(k) := {"type": "key", "kms_key_id": k.key_id, "region": k.region}

scan_resource := {"type": "scan"}

# scan_id(s): the scan id of a provenance or previous_scan record, or "".
scan_id(s) := s.scan_id if {
	is_object(s)
} else := ""

# Evidence records.
rule_evidence(b) := {
	"kind": "api_response",
	"source": "GetBucketEncryption",
	"captured_at": b.read_at,
	"data": {"encryption": b.encryption},
}

# object_evidence(o): every member is read with a default, so a record
# missing one still yields its finding (a rule must never pass silently
# because its evidence was undefined).
object_evidence(o) := {
	"kind": "head_object",
	"source": "HeadObject",
	"data": {
		"etag": object.get(o, "etag", ""),
		"last_modified": object.get(o, "last_modified", ""),
		"sse": object.get(o, "sse", ""),
		"kms_key_id": object.get(o, "kms_key_id", ""),
		"method": object.get(o, "method", null),
	},
}

key_evidence(k) := {
	"kind": "kms_key",
	"source": "DescribeKey",
	"captured_at": object.get(k, "read_at", ""),
	"data": k,
}
