package hostile.arith

# METADATA
# title: Hostile arith
# description: A user policy that does arithmetic and set differences over every object of a bucket, as a real policy does (allowed, however large the bucket).
# custom:
#   id: HOSTILE-27
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": msg} if {
	total := sum([o.size | some o in input.bucket.objects])
	rest := {o.key | some o in input.bucket.objects} - {"k0"}
	avg := total / count(input.bucket.objects)
	msg := concat(" ", [format_int(total, 10), format_int(count(rest), 10), format_int(avg, 10), format_int((count(rest) * 2) % 7, 10)])
}
