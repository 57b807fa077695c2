package faults

import "testing"

func TestParse(t *testing.T) {
	s, err := Parse(" omit-sse-header, plaintext-at-rest ,")
	if err != nil || !s.Has(OmitSSEHeader) || !s.Has(PlaintextAtRest) || s.Has(UseDisabledKey) {
		t.Fatalf("Parse = %v, %v", s, err)
	}
	if s.String() != "omit-sse-header,plaintext-at-rest" {
		t.Fatalf("String = %q", s.String())
	}
	if _, err := Parse("no-such-fault"); err == nil {
		t.Fatal("unknown fault accepted")
	}
	var none Set
	if none.Has(OmitSSEHeader) {
		t.Fatal("nil set has a fault")
	}
}
