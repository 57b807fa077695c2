package hostile.units

# METADATA
# title: Hostile units
# description: A user policy that parses a 5000-digit quantity.
# custom:
#   id: HOSTILE-25
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	n := units.parse_bytes(sprintf("%05000dKiB", [7]))
	n > 0
}
