package objstore

import (
	"hash"
	"io"
	"sync"
)

// pipeDepth is how many buffers a large write streams through at once.
// Two would do if every stage took the same time; the stages here (the
// socket read, MD5, and CRC-64 with the encryption and the file write)
// each stall now and then, and on two cores shared with the client the
// scheduler runs them unevenly, so a few buffers of slack keep the two
// workers fed. BenchmarkPutGet64MiBInterleaved (reference/server), three
// rounds each, plain MB/s: 2 buffers 484-490, 4 buffers 492-506, 8
// buffers 515-537; 4 keeps a write's buffers at 1 MiB.
const pipeDepth = 4

// copyHashed copies src to dst until io.EOF, as io.CopyBuffer would, and
// writes the same bytes to side, a hash. Both run on goroutines of their
// own while this one reads src: MD5, the slowest thing a write computes
// (about 0.6 GB/s, against several GB/s for AES-GCM and the hardware
// CRCs), runs beside the other checksums, the encryption and the file
// write, and those beside the reading of the next buffers. That shortens
// a large write's elapsed time whenever the machine has a core to spare
// even part of the time; on a machine whose cores are all busy it gains
// nothing and costs a little scheduling.
//
// It streams through up to pipeDepth buffers of copyBufSize, handed to
// both workers in order; a buffer is refilled only after both finished
// with it. A body that fits one buffer is hashed and written inline,
// without a goroutine. On return both workers have stopped and no buffer
// is referenced, whatever failed.
//
// Read errors are returned as they are, after the bytes read before them
// were written; a write error of dst wins over a later read error and
// stops the copy (dst writing fewer bytes than given is io.ErrShortWrite).
// side must not fail.
func copyHashed(dst io.Writer, side hash.Hash, src io.Reader) (total int64, err error) {
	first := copyBufs.Get().(*[]byte)
	n, rerr := fillBuf(src, *first)
	if rerr != nil {
		// All of the body (or all of it there will be) is in one buffer:
		// nothing to overlap.
		defer copyBufs.Put(first)
		if n > 0 {
			p := (*first)[:n]
			side.Write(p)
			m, werr := dst.Write(p)
			if werr == nil && m != n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return int64(m), werr
			}
		}
		if rerr == io.EOF {
			return int64(n), nil
		}
		return int64(n), rerr
	}

	var bufs [pipeDepth]*[]byte
	bufs[0] = first
	var lens [pipeDepth]int
	hashQ := make(chan int, pipeDepth)
	writeQ := make(chan int, pipeDepth)
	// released gets a buffer's index once from each worker.
	released := make(chan int, 2*pipeDepth)
	var (
		wg      sync.WaitGroup
		werrMu  sync.Mutex
		werr    error
		written int64
	)
	writeErr := func() error {
		werrMu.Lock()
		defer werrMu.Unlock()
		return werr
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range hashQ {
			side.Write((*bufs[i])[:lens[i]])
			released <- i
		}
	}()
	go func() {
		defer wg.Done()
		failed := false
		for i := range writeQ {
			if !failed {
				m, err := dst.Write((*bufs[i])[:lens[i]])
				written += int64(m)
				if err == nil && m != lens[i] {
					err = io.ErrShortWrite
				}
				if err != nil {
					failed = true
					werrMu.Lock()
					werr = err
					werrMu.Unlock()
				}
			}
			released <- i
		}
	}()
	defer func() {
		close(hashQ)
		close(writeQ)
		wg.Wait()
		for _, bp := range bufs {
			if bp != nil {
				copyBufs.Put(bp)
			}
		}
		total = written
		if werr != nil {
			err = werr
		}
	}()

	// busy counts the workers still holding each buffer.
	var busy [pipeDepth]int
	submit := func(i, n int) {
		lens[i] = n
		busy[i] = 2
		hashQ <- i
		writeQ <- i
	}
	submit(0, n)
	for cur := 1; ; cur = (cur + 1) % pipeDepth {
		if bufs[cur] == nil {
			bufs[cur] = copyBufs.Get().(*[]byte)
		}
		for busy[cur] > 0 {
			busy[<-released]--
		}
		if writeErr() != nil {
			return 0, nil // the deferred function reports it
		}
		n, rerr := fillBuf(src, *bufs[cur])
		if n > 0 {
			submit(cur, n)
		}
		if rerr == io.EOF {
			return 0, nil
		}
		if rerr != nil {
			return 0, rerr
		}
	}
}

// fillBuf reads from r into buf until buf is full, r ends (io.EOF, also
// returned with a partial or empty buffer) or r fails; a full buffer
// comes with a nil error. It gives up with io.ErrNoProgress after 100
// empty reads, as io.ReadAtLeast's callers do.
func fillBuf(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}
