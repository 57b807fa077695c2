package hostile.with_concat

# METADATA
# title: Hostile with_concat
# description: A user policy that calls the real, unbounded concat through with (a 4 KiB separator joining a million strings, 4 GB).
# custom:
#   id: HOSTILE-15
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	sep := concat("", [s | some _ in numbers.range(1, 4096); s := "x"])
	arr := [s | some _ in numbers.range(1, 1000000); s := "y"]
	r := strings.any_suffix_match(sep, arr) with strings.any_suffix_match as concat
	r != 0
}
