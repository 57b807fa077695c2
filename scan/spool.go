package scan

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"io"
	"os"
)

// spool keeps the objects of a bucket scanned ahead of its turn, in
// arrival order: up to spoolMemObjects in memory, the rest in a temporary
// file (mode 0600, in Config.SpoolDir, removed by close). gob keeps every
// field exactly (times with their zone), so a replayed object is written
// to the snapshot as it would have been directly.
type spool struct {
	dir string
	max int64 // objects kept in memory
	mem []result
	f   *os.File
	bw  *bufio.Writer
	enc *gob.Encoder
	n   int // objects in the file
	err error
}

func (sp *spool) add(o result) error {
	sp.mem = append(sp.mem, o)
	if int64(len(sp.mem)) >= sp.max {
		sp.err = sp.spill()
	}
	return sp.err
}

// spill moves the objects in memory to the file.
func (sp *spool) spill() error {
	if sp.f == nil {
		f, err := os.CreateTemp(sp.dir, "sseaudit-spool-*")
		if err != nil {
			return fmt.Errorf("create spool file: %w", err)
		}
		sp.f, sp.bw = f, bufio.NewWriterSize(f, 64<<10)
		sp.enc = gob.NewEncoder(sp.bw)
	}
	for i := range sp.mem {
		if err := sp.enc.Encode(&sp.mem[i]); err != nil {
			return fmt.Errorf("write spool file: %w", err)
		}
		sp.n++
	}
	clear(sp.mem)
	sp.mem = sp.mem[:0]
	return nil
}

// replay passes every object kept to fn, in the order they came, and
// empties the spool.
func (sp *spool) replay(fn func(result) error) error {
	if sp.f != nil {
		if err := sp.bw.Flush(); err != nil {
			return fmt.Errorf("write spool file: %w", err)
		}
		if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("read spool file: %w", err)
		}
		dec := gob.NewDecoder(bufio.NewReaderSize(sp.f, 64<<10))
		for range sp.n {
			var o result
			if err := dec.Decode(&o); err != nil {
				return fmt.Errorf("read spool file: %w", err)
			}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	for _, o := range sp.mem {
		if err := fn(o); err != nil {
			return err
		}
	}
	sp.mem = nil
	return nil
}

// close removes the file, if any.
func (sp *spool) close() {
	if sp.f != nil {
		sp.f.Close()
		os.Remove(sp.f.Name())
		sp.f = nil
	}
	sp.mem = nil
}
