package objstore

import (
	"hash"
	"io"
)

// copyHashed copies src to dst until io.EOF, as io.CopyBuffer would, and
// writes the same bytes to side, a hash, on a goroutine of its own: MD5,
// the slowest thing a write computes (about 0.6 GB/s, against several
// GB/s for AES-GCM and the hardware CRCs), runs beside the other
// checksums, the encryption and the file write instead of before them.
// That shortens a large write's elapsed time when a second core is free;
// on a machine whose cores are all busy it gains nothing (measured on a
// loaded 2-core machine: no significant change, about 2% more CPU).
//
// It streams through two buffers of copyBufSize: while the hasher reads
// one, src fills the other, and dst is written from the one just filled;
// a buffer is refilled only after the hasher finished with it. A body that
// fits one buffer is hashed inline, without a goroutine. On return the
// hasher has stopped and neither buffer is referenced, whatever failed.
//
// Read errors are returned as they are, write errors of dst too (dst
// writing fewer bytes than given is io.ErrShortWrite). side must not fail.
func copyHashed(dst io.Writer, side hash.Hash, src io.Reader) (total int64, err error) {
	bp := copyBufs.Get().(*[]byte)
	bufs := [2][]byte{*bp, nil}
	var bp2 *[]byte
	var todo chan []byte   // to the hasher; nil until it runs
	var done chan struct{} // the hasher finished a buffer
	busy := false          // the hasher holds a buffer
	defer func() {
		// Stop the hasher before the buffers go back to the pool.
		if todo != nil {
			if busy {
				<-done
			}
			close(todo)
		}
		copyBufs.Put(bp)
		if bp2 != nil {
			copyBufs.Put(bp2)
		}
	}()

	for cur := 0; ; cur ^= 1 {
		buf := bufs[cur]
		n, rerr := fillBuf(src, buf)
		if n > 0 {
			p := buf[:n]
			switch {
			case todo == nil && rerr != nil:
				side.Write(p) // all of the body is in p: no need to overlap
			default:
				if todo == nil {
					bp2 = copyBufs.Get().(*[]byte)
					bufs[1] = *bp2
					todo, done = make(chan []byte), make(chan struct{})
					go func() {
						for b := range todo {
							side.Write(b)
							done <- struct{}{}
						}
					}()
				}
				if busy {
					// The hasher holds the other buffer, filled before
					// this one; once it is done the next fill may reuse it.
					<-done
				}
				todo <- p
				busy = true
			}
			m, werr := dst.Write(p)
			total += int64(m)
			if werr == nil && m != n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, werr
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
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
