package hostile.reads_lib

import data.sseaudit.lib

# METADATA
# title: Hostile reads_lib
# description: A user policy that reads the built-in library and replaces part of input with a value (both allowed).
# custom:
#   id: HOSTILE-14
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": msg} if {
	names := lib.key_names(input.bucket.encryption.kms_master_key_id)
	count(names) > 0
	"kms-cmk" in lib.known_methods
	n := count(input.bucket.objects) with input.bucket.objects as [1, 2]
	msg := sprintf("%d names, %d objects", [count(names), n])
}
