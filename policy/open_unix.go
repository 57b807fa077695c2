//go:build unix

package policy

import "syscall"

// openNoBlock makes opening a FIFO swapped in after a policy file was
// inspected return at once instead of waiting for a writer; it changes
// nothing for a regular file.
const openNoBlock = syscall.O_NONBLOCK
