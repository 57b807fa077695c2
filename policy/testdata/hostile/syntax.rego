package hostile.syntax

# METADATA
# title: Hostile syntax
# description: A user policy that tries to break the parser.
# custom:
#   id: HOSTILE-12
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id} if {
	x := [1, 2
}
