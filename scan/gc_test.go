package scan

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
)

// gcPercent reads the process's GC percent without changing it.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestRaiseGCNested: the GC percent is raised while any census runs and
// put back when the last one ends, whichever ends first; it is never
// lowered, and GOGC=off stays off.
func TestRaiseGCNested(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		name             string
		before, raise    int
		during, afterOne int
	}{
		{"default", 100, 400, 400, 400},
		{"already higher", 800, 400, 800, 800},
		{"off", -1, 400, -1, -1},
		{"not asked", 100, -1, 100, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(c.before)
			want := func(when string, p int) {
				t.Helper()
				if p < 0 {
					if got := debug.SetGCPercent(-1); got >= 0 { // metrics reads off as a large number
						debug.SetGCPercent(got)
						t.Errorf("%s: GC percent %d, want off", when, got)
					}
					return
				}
				if got := gcPercent(); got != p {
					t.Errorf("%s: GC percent %d, want %d", when, got, p)
				}
			}
			first := raiseGC(c.raise)
			second := raiseGC(c.raise)
			want("during two censuses", c.during)
			first()
			first() // twice: counted once
			want("after the first ends", c.afterOne)
			second()
			want("after both end", c.before)
		})
	}
}

// TestRunRaisesGC: a scan runs with the GC percent at
// DefaultCensusGCPercent (Config.GCPercent 0) and puts it back after.
func TestRunRaisesGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "gc-tuned", nil)
	put(t, root, "gc-tuned", "k", nil)
	for _, c := range []struct {
		name string
		cfg  int
		want int
	}{
		{"default", 0, DefaultCensusGCPercent},
		{"configured", 250, 250},
		{"left alone", -1, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			var during int
			clock := func() time.Time {
				during = max(during, gcPercent())
				return time.Now()
			}
			if _, _, err := scanFile(t, Config{Client: root, KMS: rootKMS, BucketGlob: "gc-tuned", GCPercent: c.cfg, Clock: clock}); err != nil {
				t.Fatal(err)
			}
			if during != c.want {
				t.Errorf("GC percent %d during the scan, want %d", during, c.want)
			}
			if got := gcPercent(); got != 100 {
				t.Errorf("GC percent %d after the scan, want 100 back", got)
			}
		})
	}
}
