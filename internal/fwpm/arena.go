package fwpm

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// chunkSize is how much memory the arena maps at a time; a bigger request gets a
// chunk of its own.
const chunkSize = 64 << 10

// Arena hands out zeroed, 8-aligned memory outside the Go heap for the structs passed
// to fwpuclnt.dll, so pointers between them are stable and the garbage collector
// never sees them. Everything is released at once by Free. An Arena is not safe for
// concurrent use.
type Arena struct {
	chunks [][]byte
	off    int // used bytes of the last chunk
}

// NewArena returns an empty arena; it maps memory on first use.
func NewArena() *Arena { return &Arena{} }

// Alloc returns size zeroed bytes aligned to 8 (enough for every WFP struct).
func (a *Arena) Alloc(size int) (unsafe.Pointer, error) {
	if size < 0 {
		return nil, fmt.Errorf("fwpm: arena allocation of %d bytes: want a size of at least 0", size)
	}
	if size == 0 {
		size = 1
	}
	size = (size + 7) &^ 7
	if len(a.chunks) == 0 || a.off+size > len(a.chunks[len(a.chunks)-1]) {
		n := chunkSize
		if size > n {
			n = size
		}
		mem, err := mapMemory(n)
		if err != nil {
			return nil, fmt.Errorf("fwpm: arena: mapping %d bytes: %w", n, err)
		}
		a.chunks = append(a.chunks, mem)
		a.off = 0
	}
	c := a.chunks[len(a.chunks)-1]
	p := unsafe.Pointer(&c[a.off])
	a.off += size
	return p, nil
}

// Free releases every chunk. Pointers handed out before are invalid afterwards. Free
// on an empty or already freed arena does nothing.
func (a *Arena) Free() error {
	var first error
	for _, c := range a.chunks {
		if err := unmapMemory(c); err != nil && first == nil {
			first = fmt.Errorf("fwpm: arena: releasing %d bytes: %w", len(c), err)
		}
	}
	a.chunks, a.off = nil, 0
	return first
}

// alloc is Alloc typed: a pointer to one zero T in the arena.
func alloc[T any](a *Arena) (*T, error) {
	var zero T
	p, err := a.Alloc(int(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, err
	}
	return (*T)(p), nil
}

// allocSlice returns n zero Ts in the arena (nil for n == 0).
func allocSlice[T any](a *Arena, n int) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	var zero T
	p, err := a.Alloc(n * int(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(p), n), nil
}

// Bytes copies b into the arena; nil for an empty b.
func (a *Arena) Bytes(b []byte) (*byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	s, err := allocSlice[byte](a, len(b))
	if err != nil {
		return nil, err
	}
	copy(s, b)
	return &s[0], nil
}

// UTF16 copies s into the arena as a NUL-terminated wchar_t string. An empty s gives
// nil, which is how the API spells "no string" (an optional description). A NUL
// inside s is an error: Windows would cut the string there.
func (a *Arena) UTF16(s string) (*uint16, error) {
	if s == "" {
		return nil, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, fmt.Errorf("fwpm: string %q contains a NUL character: want text without NUL, Windows strings end at the first one", s)
		}
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("fwpm: string %q is not valid UTF-8: want UTF-8 text, which becomes the UTF-16 Windows expects", s)
	}
	u := utf16.Encode([]rune(s))
	d, err := allocSlice[uint16](a, len(u)+1)
	if err != nil {
		return nil, err
	}
	copy(d, u)
	return &d[0], nil
}

// GUIDPtr copies g into the arena; nil for the zero GUID (an optional key left unset).
func (a *Arena) GUIDPtr(g GUID) (*GUID, error) {
	if g.IsZero() {
		return nil, nil
	}
	p, err := alloc[GUID](a)
	if err != nil {
		return nil, err
	}
	*p = g
	return p, nil
}

// Blob returns an FWP_BYTE_BLOB of b copied into the arena.
func (a *Arena) Blob(b []byte) (ByteBlob, error) {
	p, err := a.Bytes(b)
	if err != nil {
		return ByteBlob{}, err
	}
	return ByteBlob{Size: uint32(len(b)), Data: p}, nil
}

// UTF16ToString reads a NUL-terminated wchar_t string; nil gives "".
func UTF16ToString(p *uint16) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*uint16)(unsafe.Add(unsafe.Pointer(p), 2*n)) != 0 {
		n++
	}
	return string(utf16.Decode(unsafe.Slice(p, n)))
}

// BlobBytes copies an FWP_BYTE_BLOB's bytes into the Go heap; nil for an empty blob.
func BlobBytes(b ByteBlob) []byte {
	if b.Size == 0 || b.Data == nil {
		return nil
	}
	return append([]byte(nil), unsafe.Slice(b.Data, b.Size)...)
}
