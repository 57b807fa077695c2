package objstore

import "sync"

// uploadSlots caps each principal's concurrent uploads: every write that
// streams a body into a temp file (PutObject, UploadPart, and the copies,
// which write a new file too) holds one slot while it does. A principal
// that opens many uploads and stalls them pins a descriptor and a temp file
// per upload; the cap bounds that per principal, so one cannot exhaust the
// server for the others.
type uploadSlots struct {
	max  int // 0 = no cap
	mu   sync.Mutex
	held map[string]int // principal name → slots held (absent when 0)
}

func newUploadSlots(max int) *uploadSlots {
	return &uploadSlots{max: max, held: make(map[string]int)}
}

// acquire takes a slot for p, or returns a KindSlowDown error naming
// resource when p holds max already. The caller must call the returned
// release exactly once.
func (u *uploadSlots) acquire(p Principal, resource string) (release func(), err error) {
	if u.max <= 0 {
		return func() {}, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held[p.Name] >= u.max {
		return nil, newErr(KindSlowDown, resource, msgSlowDown, nil)
	}
	u.held[p.Name]++
	return func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.held[p.Name]--; u.held[p.Name] <= 0 {
			delete(u.held, p.Name)
		}
	}, nil
}
