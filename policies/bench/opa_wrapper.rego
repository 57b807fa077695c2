# METADATA
# title: Stock opa eval harness (benchmark only)
# description: >-
#   Evaluates the built-in policies over a whole snapshot file given as
#   input, bucket by bucket, the way the embedded engine does, so that
#   `opa eval -i SNAPSHOT.json data.sseaudit_bench.total` can be compared
#   with it (see compare.sh). Not loaded by the engine.
# scope: package
package sseaudit_bench

import data.sseaudit.lib

# keys by id and ARN, as the engine passes them (ids assumed unique).
keys := {id: k |
	some k in input.keys
	some id in {k.key_id, object.get(k, "arn", k.key_id)}
}

bucket_input(b) := {
	"bucket": b,
	"keys": keys,
	"previous": null,
	"previous_scan": null,
	"rule_first_seen": null,
	"profile": lib.default_profile,
	"provenance": input.provenance,
}

bucket_findings contains f if {
	some b in input.buckets
	fs := ((data.sseaudit.bucket_default.deny | data.sseaudit.objects.deny) | data.sseaudit.keys.deny) | (data.sseaudit.drift.deny | data.sseaudit.coverage.deny) with input as bucket_input(b)
	some f in fs
}

scan_input := {
	"scan": {
		"schema": input.schema,
		"provenance": input.provenance,
		"coverage": input.coverage,
		"finished_at": input.finished_at,
		"complete": input.complete,
		"buckets": [object.remove(b, ["objects"]) | some b in input.buckets],
		"keys": input.keys,
	},
	"keys": keys,
	"profile": lib.default_profile,
	"provenance": input.provenance,
}

scan_findings := fs if {
	fs := data.sseaudit.coverage.scan_deny with input as scan_input
}

total := count(bucket_findings) + count(scan_findings)
