package scan

import (
	"fmt"
	"testing"
)

func TestParseReadProbe(t *testing.T) {
	for _, c := range []struct {
		in      string
		percent int
		mode    string
		bad     bool
	}{
		{"", 0, "", false},
		{"off", 0, "", false},
		{"all", 100, "all", false},
		{"100%", 100, "all", false},
		{"10%", 10, "10%", false},
		{"1%", 1, "1%", false},
		{"0%", 0, "", true},
		{"101%", 0, "", true},
		{"10", 0, "", true},
		{"-5%", 0, "", true},
		{"some", 0, "", true},
	} {
		p, err := ParseReadProbe(c.in)
		if (err != nil) != c.bad {
			t.Errorf("%q: error %v, want bad=%v", c.in, err, c.bad)
			continue
		}
		if p.Percent != c.percent || p.String() != c.mode {
			t.Errorf("%q: %d%% %q, want %d%% %q", c.in, p.Percent, p.String(), c.percent, c.mode)
		}
	}
}

// TestReadProbeSample: a sample is the same on every run (a finding does
// not come and go with the draw) and about the size asked for.
func TestReadProbeSample(t *testing.T) {
	p := ReadProbe{Percent: 10}
	n := 0
	for i := range 10000 {
		k := fmt.Sprintf("obj-%05d", i)
		a, b := p.selects("bkt", k, ""), p.selects("bkt", k, "")
		if a != b {
			t.Fatalf("%s selected %v then %v", k, a, b)
		}
		if a {
			n++
		}
	}
	if n < 900 || n > 1100 {
		t.Errorf("10%% sample of 10,000 objects selected %d", n)
	}
	if (ReadProbe{}).selects("b", "k", "") || !(ReadProbe{Percent: 100}).selects("b", "k", "") {
		t.Error("off selects, or all does not")
	}
}
