//go:build !unix

package attest

// openNoBlock: no non-blocking open on this platform; the file is still
// inspected (no FIFO or device is opened) before it is opened.
const openNoBlock = 0
