package scan

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/snapshot"
)

// ReadProbe selects the encrypted objects the census reads one byte of
// after their HEAD (see client.ReadProbe): HEAD is answered from
// metadata, so only a read shows an object whose key is disabled or gone
// or whose data no longer authenticates, on any store and without its
// KMS. Each probe is one more GET, under the same concurrency and request
// budget as the HEADs. The zero value probes nothing.
type ReadProbe struct {
	// Percent of the encrypted objects probed, 1 to 100. The sample is
	// deterministic (a hash of bucket, key and version id), so repeated
	// scans probe the same objects and a finding does not come and go
	// with the draw.
	Percent int
}

// ParseReadProbe reads the --read-probe value: off, all, or a sample
// such as 10%.
func ParseReadProbe(s string) (ReadProbe, error) {
	switch s {
	case "", "off":
		return ReadProbe{}, nil
	case "all":
		return ReadProbe{Percent: 100}, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if !strings.HasSuffix(s, "%") || err != nil || n < 1 || n > 100 {
		return ReadProbe{}, fmt.Errorf("read probe %q: want off, all, or a percentage of the encrypted objects from 1%% to 100%% (e.g. 10%%)", s)
	}
	return ReadProbe{Percent: n}, nil
}

// String is the mode as recorded in the provenance ("" when off).
func (p ReadProbe) String() string {
	switch {
	case p.Percent <= 0:
		return ""
	case p.Percent >= 100:
		return "all"
	}
	return strconv.Itoa(p.Percent) + "%"
}

// selects reports whether the object is in the sample.
func (p ReadProbe) selects(bucket, key, versionID string) bool {
	if p.Percent <= 0 {
		return false
	}
	if p.Percent >= 100 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(versionID))
	return h.Sum64()%100 < uint64(p.Percent)
}

// probe reads one byte of an encrypted object the sample selects and
// records the outcome in o. A probe cut short by the scan's cancellation
// leaves the object unprobed; any other failure is recorded as
// o.ReadError (policies judge only failures the store answered).
func (s *scanner) probe(ctx context.Context, o *snapshot.Object, res func() string) {
	// An SSE-C object is never probed: without its key every read fails
	// by design, and inspect already read it once to recognise it.
	if o.SSE == "" || o.Method == snapshot.MethodSSEC || !s.cfg.ReadProbe.selects(o.Bucket, o.Key, o.VersionID) {
		return
	}
	version := ""
	if o.Noncurrent || o.VersionID != "" {
		version = o.VersionID
	}
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		return s.cfg.Client.ReadProbe(ctx, o.Bucket, o.Key, version, o.Size)
	})
	if err == nil {
		o.ReadProbed = true
		return
	}
	e := toError(ctx, "object", res(), attempts, err)
	if e.Code == CodeCancelled {
		return
	}
	o.ReadProbed, o.ReadError = true, e
}
