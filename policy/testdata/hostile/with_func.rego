package hostile.with_func

# METADATA
# title: Hostile with_func
# description: A user policy that puts the real concat in place of its own function.
# custom:
#   id: HOSTILE-17
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	sep := concat("", [s | some _ in numbers.range(1, 4096); s := "x"])
	arr := [s | some _ in numbers.range(1, 1000000); s := "y"]
	r := join(sep, arr) with join as concat
	r != ""
}

join(a, b) := "" if {
	a != b
}
