package hostile.big_range

# METADATA
# title: Hostile big_range
# description: A user policy that tries to build numbers.range(1, 1e10) (the rule that grew the process to 12 GB).
# custom:
#   id: HOSTILE-5
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "many"} if {
	n := count(numbers.range(1, 1e10))
	n > 0
}
