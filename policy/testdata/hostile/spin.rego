package hostile.spin

# METADATA
# title: Hostile spin
# description: A user policy that tries to run for ever without allocating (1e12 iterations).
# custom:
#   id: HOSTILE-7
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "spun"} if {
	some i in numbers.range(1, 1000)
	some j in numbers.range(1, 1000)
	some k in numbers.range(1, 1000)
	some l in numbers.range(1, 1000)
	i + j + k + l < 0
}
