//go:build !unix

package policy

// openNoBlock: no non-blocking open on this platform; a policy file is
// still inspected (no FIFO or device is opened) before it is opened.
const openNoBlock = 0
