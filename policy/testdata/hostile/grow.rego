package hostile.grow

# METADATA
# title: Hostile grow
# description: A user policy that tries to grow memory through a comprehension (1e9 elements, no builtin building them).
# custom:
#   id: HOSTILE-6
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "grown"} if {
	xs := [[i, j] | some i in numbers.range(1, 1000000); some j in numbers.range(1, 1000)]
	count(xs) > 0
}
