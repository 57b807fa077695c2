package hostile.separator

# METADATA
# title: Hostile separator
# description: A user policy that tries to multiply a separator by a range in one concat.
# custom:
#   id: HOSTILE-10
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "joined"} if {
	sep := concat("", [format_int(i, 10) | some i in numbers.range(1, 10000)])
	s := concat(sep, [format_int(i, 10) | some i in numbers.range(1, 100000)])
	count(s) > 0
}
