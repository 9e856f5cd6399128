//go:build unix

package fwpm

import "syscall"

// mapMemory maps n anonymous, zeroed bytes outside the Go heap. Off Windows the arena
// only serves the encoder's tests.
func mapMemory(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapMemory(b []byte) error { return syscall.Munmap(b) }
