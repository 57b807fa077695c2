package hostile.doubling

# METADATA
# title: Hostile doubling
# description: A user policy that tries to double a string in one call per line (hex.encode).
# custom:
#   id: HOSTILE-9
#   severity: low
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "long"} if {
	s0 := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	s1 := hex.encode(s0)
	s2 := hex.encode(s1)
	s3 := hex.encode(s2)
	s4 := hex.encode(s3)
	s5 := hex.encode(s4)
	s6 := hex.encode(s5)
	s7 := hex.encode(s6)
	s8 := hex.encode(s7)
	s9 := hex.encode(s8)
	s10 := hex.encode(s9)
	s11 := hex.encode(s10)
	s12 := hex.encode(s11)
	s13 := hex.encode(s12)
	s14 := hex.encode(s13)
	s15 := hex.encode(s14)
	s16 := hex.encode(s15)
	s17 := hex.encode(s16)
	s18 := hex.encode(s17)
	s19 := hex.encode(s18)
	s20 := hex.encode(s19)
	s21 := hex.encode(s20)
	s22 := hex.encode(s21)
	s23 := hex.encode(s22)
	s24 := hex.encode(s23)
	s25 := hex.encode(s24)
	s26 := hex.encode(s25)
	s27 := hex.encode(s26)
	s28 := hex.encode(s27)
	s29 := hex.encode(s28)
	s30 := hex.encode(s29)
	count(s30) > 0
}
