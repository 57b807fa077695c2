package hostile.with_range

# METADATA
# title: Hostile with_range
# description: A user policy that calls the real numbers.range through with.
# custom:
#   id: HOSTILE-16
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	r := bits.and(1, 300000000) with bits.and as numbers.range
	r != 0
}
