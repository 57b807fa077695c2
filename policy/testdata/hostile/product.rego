package hostile.product

# METADATA
# title: Hostile product
# description: A user policy that multiplies a thousand 600-digit numbers in one call.
# custom:
#   id: HOSTILE-24
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	a := to_number(sprintf("%0600d", [7]))
	p := product([a | some _ in numbers.range(1, 1000)])
	p > 0
}
