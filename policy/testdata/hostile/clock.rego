package hostile.clock

# METADATA
# title: Hostile clock
# description: A user policy that tries to judge by the wall clock.
# custom:
#   id: HOSTILE-4
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "late"} if {
	time.now_ns() > 0
}
