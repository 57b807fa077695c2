package hostile.number_literal

# METADATA
# title: Hostile number_literal
# description: A user policy that writes a number of 30001 digits.
# custom:
#   id: HOSTILE-26
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	n := 1e30000
	n > input.bucket.objects_listed
}
