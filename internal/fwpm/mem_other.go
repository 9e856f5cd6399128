//go:build !unix && !windows

package fwpm

// mapMemory falls back to the Go heap where there is no mmap (js, wasip1, plan9). The
// Go collector does not move objects and a []byte is never scanned, so pointers
// between arena structs stay valid while the Arena holds the chunk. Only the tests use
// the arena on these systems.
func mapMemory(n int) ([]byte, error) { return make([]byte, n), nil }

func unmapMemory([]byte) error { return nil }
