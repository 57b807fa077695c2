package hostile.benign

# METADATA
# title: Hostile benign
# description: A user policy that tries to look at every object of a bucket, as a real policy does.
# custom:
#   id: HOSTILE-13
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": msg} if {
	keys := [o.key | some o in input.bucket.objects]
	count(keys) > 0
	msg := sprintf("%d objects, first %s, %s", [count(keys), keys[0], concat(",", array.slice(keys, 0, 3))])
}
