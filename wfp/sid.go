package wfp

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// ParseSID reads a SID in its string form, "S-1-5-21-1004336348-1177238915-682003330-512",
// and returns the binary form: revision, sub-authority count, 6-byte big-endian
// identifier authority, then each sub-authority as a little-endian uint32.
func ParseSID(s string) (SID, error) {
	parts := strings.Split(strings.ToUpper(strings.TrimSpace(s)), "-")
	if len(parts) < 3 || parts[0] != "S" {
		return nil, fmt.Errorf("wfp: invalid SID %q: want S-R-I-S...: %w", s, ErrInvalid)
	}
	rev, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil || rev != 1 {
		return nil, fmt.Errorf("wfp: invalid SID %q: revision must be 1: %w", s, ErrInvalid)
	}
	var auth uint64
	if strings.HasPrefix(parts[2], "0X") {
		auth, err = strconv.ParseUint(parts[2][2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(parts[2], 10, 48)
	}
	if err != nil {
		return nil, fmt.Errorf("wfp: invalid SID %q: bad identifier authority: %w", s, ErrInvalid)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("wfp: invalid SID %q: more than 15 sub-authorities: %w", s, ErrInvalid)
	}
	b := make([]byte, 8+4*len(subs))
	b[0] = 1
	b[1] = byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("wfp: invalid SID %q: bad sub-authority %q: %w", s, p, ErrInvalid)
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(v))
	}
	return SID(b), nil
}

// MustParseSID is ParseSID for literals in code.
func MustParseSID(s string) SID {
	sid, err := ParseSID(s)
	if err != nil {
		panic(err)
	}
	return sid
}

// Valid reports whether the binary form is well formed.
func (v SID) Valid() bool {
	return len(v) >= 8 && v[0] == 1 && int(v[1]) <= 15 && len(v) == 8+4*int(v[1])
}

// String returns the "S-1-5-18" form, or "invalid-sid" for malformed bytes.
func (v SID) String() string {
	if !v.Valid() {
		return "invalid-sid"
	}
	var auth uint64
	for i := 0; i < 6; i++ {
		auth = auth<<8 | uint64(v[2+i])
	}
	var b strings.Builder
	b.WriteString("S-1-")
	if auth >= 1<<32 {
		fmt.Fprintf(&b, "0x%012X", auth)
	} else {
		b.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < int(v[1]); i++ {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(v[8+4*i:])), 10))
	}
	return b.String()
}

// Equal reports whether two SIDs are the same.
func (v SID) Equal(o SID) bool { return string(v) == string(o) }
