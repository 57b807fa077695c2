package hostile.runtime

# METADATA
# title: Hostile runtime
# description: A user policy that tries to read the process environment.
# custom:
#   id: HOSTILE-3
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": opa.runtime().env.HOME} if {
	true
}
