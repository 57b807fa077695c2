package hostile.recursion

# METADATA
# title: Hostile recursion
# description: A user policy that tries to recurse for ever.
# custom:
#   id: HOSTILE-11
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "deep"} if {
	f(1) > 0
}

f(n) := f(n + 1)
