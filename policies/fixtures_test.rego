# Shared test fixtures: inputs shaped as the engine builds them (see package
# policy), for the *_test.rego files. Not a policy; never loaded by the
# engine.
package sseaudit.fixtures

t_created := "2024-01-01T00:00:00Z"

t_old := "2024-02-01T10:00:00Z"

t_prev_scan := "2024-03-01T00:00:00Z"

t_mid := "2024-04-01T12:00:00Z"

t_read := "2024-06-01T00:00:00Z"

region := "cn-hangzhou"

cmk := "11111111-2222-3333-4444-555555555555"

cmk2 := "66666666-7777-8888-9999-000000000000"

# cmk3 is an S3 key, known to the snapshot only by its ARN.
cmk3 := "77777777-aaaa-bbbb-cccc-dddddddddddd"

cmk3_arn := sprintf("arn:aws:kms:us-east-1:111122223333:key/%s", [cmk3])

cmk_arn := sprintf("acs:kms:%s:1234567890:key/%s", [region, cmk])

# s3_arn(id): the ARN an S3 store names key id by on every object response
# (the scanner records the key once, under its bare id, in keys).
s3_arn(id) := sprintf("arn:aws:kms:%s:111122223333:key/%s", [region, id])

svc_key := "aaaaaaaa-0000-0000-0000-0000000000a5"

key(id, extra) := object.union(
	{
		"key_id": id,
		"region": region,
		"arn": sprintf("acs:kms:%s:1234567890:key/%s", [region, id]),
		"state": "Enabled",
		"automatic_rotation": "Enabled",
		"rotation_interval": "31536000s",
		"service_key": false,
		"missing": false,
		"read_at": t_read,
	},
	extra,
)

keys := {
	cmk: key(cmk, {}),
	cmk2: key(cmk2, {}),
	svc_key: key(svc_key, {"service_key": true, "creator": "Oss", "automatic_rotation": "Disabled", "rotation_interval": ""}),
	# alias/finance resolves to cmk (the record the scanner writes for an
	# alias: key_id as referenced, arn and resolved_key_id from KMS).
	"alias/finance": object.union(key(cmk, {}), {"key_id": "alias/finance", "resolved_key_id": cmk}),
	# alias/nowhere does not exist in the region.
	"alias/nowhere": key("alias/nowhere", {"state": "", "missing": true, "arn": ""}),
	cmk3_arn: key(cmk3_arn, {"arn": cmk3_arn, "resolved_key_id": cmk3, "region": "us-east-1"}),
	"alias/acs/oss": key("alias/acs/oss", {"service_key": true, "creator": "Oss", "resolved_key_id": svc_key}),
	"disabled-key": key("disabled-key", {"state": "Disabled"}),
	"pending-key": key("pending-key", {"state": "PendingDeletion", "delete_date": "2024-06-08T00:00:00Z"}),
	"gone-key": key("gone-key", {"state": "", "missing": true}),
	"shanghai-key": key("shanghai-key", {"region": "cn-shanghai"}),
	"undescribed-key": key("undescribed-key", {"state": "", "error": {"scope": "key", "resource": "undescribed-key", "status_code": 403, "code": "Forbidden.NoPermission", "message": "denied"}}),
	"stateless-key": key("stateless-key", {"state": ""}),
	"norotate-key": key("norotate-key", {"automatic_rotation": "Disabled", "rotation_interval": ""}),
	"slowrotate-key": key("slowrotate-key", {"rotation_interval": "63072000s"}),
	"imported-key": key("imported-key", {"automatic_rotation": "Disabled", "rotation_interval": "", "origin": "EXTERNAL"}),
	"silent-key": key("silent-key", {"automatic_rotation": "", "rotation_interval": ""}),
}

rule_cmk := {"algorithm": "KMS", "kms_master_key_id": cmk, "method": "kms-cmk"}

rule_cmk_with(id) := {"algorithm": "KMS", "kms_master_key_id": id, "method": "kms-cmk"}

rule_svc := {"algorithm": "KMS", "method": "kms-default"}

rule_aes := {"algorithm": "AES256", "method": "oss-managed"}

rule_sm4 := {"algorithm": "SM4", "method": "other"}

rule_kms_sm4 := {"algorithm": "KMS", "kms_master_key_id": cmk, "kms_data_encryption": "SM4", "method": "kms-cmk"}

# obj(key, method, kms key id or "")
obj(k, method, kid) := o if {
	kid == ""
	o := {
		"bucket": "b1",
		"key": k,
		"size": 10,
		"etag": sprintf("\"etag-%s\"", [k]),
		"last_modified": t_old,
		"sse": sse_of(method),
		"method": method,
	}
}

obj(k, method, kid) := o if {
	kid != ""
	o := {
		"bucket": "b1",
		"key": k,
		"size": 10,
		"etag": sprintf("\"etag-%s\"", [k]),
		"last_modified": t_old,
		"sse": sse_of(method),
		"kms_key_id": kid,
		"method": method,
	}
}

sse_of(method) := object.get({"oss-managed": "AES256", "kms-default": "KMS", "kms-cmk": "KMS", "other": "SM4"}, method, "")

# A clean bucket: encrypted by default with the CMK, two encrypted objects.
good_objects := [obj("a.txt", "kms-cmk", cmk), obj("b.txt", "oss-managed", "")]

bucket(enc, objects) := {
	"name": "b1",
	"region": region,
	"creation_date": t_created,
	"encryption": enc,
	"objects_listed": count(objects),
	"objects_inspected": count([o | some o in objects; not o.error]),
	"read_at": t_read,
	"objects": objects,
}

default_profile := data.sseaudit.lib.default_profile

profile(overrides) := object.union(default_profile, overrides)

provenance := {
	"scan_id": "scan-2",
	"started_at": t_read,
	"tool_version": "test",
	"target": {"kind": "reference", "dialect": "oss", "endpoint": "127.0.0.1:9000"},
	"regions": [region],
}

# input for one bucket, no previous snapshot, no history.
bucket_input(b) := {
	"bucket": b,
	"keys": keys,
	"previous": null,
	"previous_scan": null,
	"rule_first_seen": null,
	"profile": default_profile,
	"provenance": provenance,
}

with_profile(inp, p) := object.union(inp, {"profile": p})

with_history(inp, t) := object.union(inp, {"rule_first_seen": t})

# with_previous(inp, prev bucket): prev's objects given as a list are keyed
# by key and version id, as the engine does.
with_previous(inp, pb) := object.union(inp, {
	"previous": object.union(pb, {"objects": {o.key: {object.get(o, "version_id", ""): o} | some o in pb.objects}}),
	"previous_scan": {"scan_id": "scan-1", "started_at": t_prev_scan, "finished_at": t_prev_scan, "complete": true},
})

prev_bucket(enc, objects) := object.union(bucket(enc, objects), {"read_at": t_prev_scan})

# scan-level input.
scan_input(overrides) := {
	"scan": object.union(
		{
			"schema": "sseaudit.snapshot/v1",
			"provenance": provenance,
			"coverage": {
				"buckets": 1, "buckets_read": 1, "objects_listed": 2, "objects_inspected": 2,
				"keys_referenced": 1, "keys_described": 1, "errors": [], "retries": 0,
			},
			"finished_at": t_read,
			"complete": true,
			"buckets": [object.remove(bucket(rule_cmk, good_objects), ["objects"])],
			"keys": [keys[cmk]],
		},
		overrides,
	),
	"keys": keys,
	"profile": default_profile,
	"provenance": provenance,
}

# index(objects): input.index as the engine builds it (string methods and
# key ids only; no previous snapshot).
index(objects) := {
	"by_method": {m: [i | some i, o in objects; o.method == m] | some o in objects; m := o.method; is_string(m)},
	"by_kms_key": {k: [i | some i, o in objects; o.kms_key_id == k] | some o in objects; k := o.kms_key_id; is_string(k)},
	"no_method": [i | some i, o in objects; not is_string(object.get(o, "method", null))],
	"failed": [i | some i, o in objects; o.error != null],
	"changed": null,
}

# rewrite(before, after): a journalled remediation rewrite of one object,
# as input.rewrites lists it (history.Rewrite).
rewrite(b, a) := {
	"key": b.key,
	"before": {"version_id": object.get(b, "version_id", ""), "etag": b.etag, "sse": object.get(b, "sse", "")},
	"after": {"version_id": object.get(a, "version_id", ""), "etag": a.etag, "sse": object.get(a, "sse", "")},
	"at": t_mid,
}

# with_rewrites(inp, rewrites): inp with input.rewrites, the rewrites by
# object key, as the engine gives them.
with_rewrites(inp, rws) := object.union(inp, {"rewrites": {k: [r | some r in rws; r.key == k] | some r0 in rws; k := r0.key}})
