package hostile.local_compare

# METADATA
# title: Hostile local_compare
# description: Two chains of local variables that nest each other, compared once; 16 levels kept OPA's type checker busy for 109 s.
# custom:
#   id: HOSTILE-20
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if {
	x0 := ["0123456789abcdef"]
	y0 := ["0123456789abcdef"]
	x1 := [x0, x0]
	y1 := [y0, y0]
	x2 := [x1, x1]
	y2 := [y1, y1]
	x3 := [x2, x2]
	y3 := [y2, y2]
	x4 := [x3, x3]
	y4 := [y3, y3]
	x5 := [x4, x4]
	y5 := [y4, y4]
	x6 := [x5, x5]
	y6 := [y5, y5]
	x7 := [x6, x6]
	y7 := [y6, y6]
	x8 := [x7, x7]
	y8 := [y7, y7]
	x9 := [x8, x8]
	y9 := [y8, y8]
	x10 := [x9, x9]
	y10 := [y9, y9]
	x11 := [x10, x10]
	y11 := [y10, y10]
	x12 := [x11, x11]
	y12 := [y11, y11]
	x13 := [x12, x12]
	y13 := [y12, y12]
	x14 := [x13, x13]
	y14 := [y13, y13]
	x15 := [x14, x14]
	y15 := [y14, y14]
	x16 := [x15, x15]
	y16 := [y15, y15]
	x16 == y16
}
