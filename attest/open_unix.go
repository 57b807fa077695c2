//go:build unix

package attest

import "syscall"

// openNoBlock makes opening a FIFO swapped in after inspection return at
// once instead of waiting for a writer; it changes nothing for a regular
// file.
const openNoBlock = syscall.O_NONBLOCK
