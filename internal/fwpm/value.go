package fwpm

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

// inline returns the address of the FWP_VALUE0 union for the types stored in it
// directly (UINT8..UINT32, INT8..INT32, float, FWP_BITMAP_INDEX_TYPE's UINT8).
func inline[T any](v *Value0) *T { return (*T)(unsafe.Pointer(&v.Data)) }

// newIn copies x into the arena and returns its address as the union's pointer.
func newIn[T any](a *Arena, x T) (unsafe.Pointer, error) {
	p, err := alloc[T](a)
	if err != nil {
		return nil, err
	}
	*p = x
	return unsafe.Pointer(p), nil
}

// sidLen checks a binary SID (revision 1, sub-authority count at byte 1, 8 bytes of
// header and 4 per sub-authority, at most 15 of them) and returns its length.
func sidLen(s []byte) (int, error) {
	if len(s) < 8 || s[0] != 1 || s[1] > 15 || len(s) != 8+4*int(s[1]) {
		return 0, fmt.Errorf("fwpm: a SID of %d bytes (% x) is malformed: want revision 1, then 8+4*n bytes for its n (at most 15) sub-authorities", len(s), s)
	}
	return len(s), nil
}

// EncodeValue writes v into dst, an FWP_VALUE0 in the arena (the weight, a range end).
// FWP_V4_ADDR_MASK, FWP_V6_ADDR_MASK and FWP_RANGE_TYPE exist only in
// FWP_CONDITION_VALUE0 and are refused; use EncodeConditionValue for those.
func EncodeValue(a *Arena, dst *Value0, v wfp.Value) error {
	switch v.(type) {
	case wfp.V4AddrMask, wfp.V6AddrMask, wfp.Range:
		return fmt.Errorf("fwpm: a value of type %s is only valid as a filter condition's value (FWP_CONDITION_VALUE0), not as an FWP_VALUE0: %w", v.Type(), wfp.ErrTypeMismatch)
	}
	return EncodeConditionValue(a, dst, v)
}

// EncodeConditionValue writes v into dst, an FWP_CONDITION_VALUE0 in the arena, copying
// whatever the union points at into the arena too. A nil v is FWP_EMPTY.
func EncodeConditionValue(a *Arena, dst *Value0, v wfp.Value) error {
	*dst = Value0{}
	if v == nil {
		return nil
	}
	dst.Type = uint32(v.Type())
	var (
		p   unsafe.Pointer
		err error
	)
	switch x := v.(type) {
	case wfp.Empty:
	case wfp.Uint8:
		*inline[uint8](dst) = uint8(x)
	case wfp.Uint16:
		*inline[uint16](dst) = uint16(x)
	case wfp.Uint32:
		*inline[uint32](dst) = uint32(x)
	case wfp.Int8:
		*inline[int8](dst) = int8(x)
	case wfp.Int16:
		*inline[int16](dst) = int16(x)
	case wfp.Int32:
		*inline[int32](dst) = int32(x)
	case wfp.Float:
		*inline[uint32](dst) = math.Float32bits(float32(x))
	case wfp.BitmapIndex:
		*inline[uint8](dst) = uint8(x)
	case wfp.Uint64:
		p, err = newIn(a, uint64(x))
	case wfp.Int64:
		p, err = newIn(a, int64(x))
	case wfp.Double:
		p, err = newIn(a, math.Float64bits(float64(x)))
	case wfp.ByteArray16:
		p, err = newIn(a, ByteArray16(x))
	case wfp.ByteArray6:
		p, err = newIn(a, ByteArray6(x))
	case wfp.BitmapArray64:
		p, err = newIn(a, [8]byte(x))
	case wfp.ByteBlob:
		var b ByteBlob
		if b, err = a.Blob(x); err == nil {
			p, err = newIn(a, b)
		}
	case wfp.UnicodeString:
		// LPWSTR unicodeString; an empty string still needs its NUL.
		if x == "" {
			p, err = newIn(a, uint16(0))
		} else {
			var s *uint16
			s, err = a.UTF16(string(x))
			p = unsafe.Pointer(s)
		}
	case wfp.SID:
		if _, err = sidLen(x); err == nil {
			var s *byte
			s, err = a.Bytes(x)
			p = unsafe.Pointer(s)
		}
	case wfp.SecurityDescriptor:
		// FWP_SECURITY_DESCRIPTOR_TYPE: FWP_BYTE_BLOB *sd holding a self-relative
		// SECURITY_DESCRIPTOR; wfp keeps its SDDL text.
		var raw []byte
		if raw, err = SDDLToSecurityDescriptor(string(x)); err == nil {
			var b ByteBlob
			if b, err = a.Blob(raw); err == nil {
				p, err = newIn(a, b)
			}
		}
	case wfp.TokenInformation:
		p, err = encodeTokenInformation(a, x)
	case wfp.TokenAccessInformation:
		// FWP_TOKEN_ACCESS_INFORMATION_TYPE is a classify-time incoming value (a blob
		// holding the kernel's TOKEN_ACCESS_INFORMATION); filters never carry it.
		return fmt.Errorf("fwpm: a value of type %s cannot be encoded: it is an incoming value of the ALE layers, never a filter condition's value; use FWP_SECURITY_DESCRIPTOR_TYPE to match users", v.Type())
	case wfp.V4AddrMask:
		p, err = newIn(a, V4AddrAndMask{Addr: x.Addr, Mask: x.Mask})
	case wfp.V6AddrMask:
		p, err = newIn(a, V6AddrAndMask{Addr: x.Addr, PrefixLength: x.PrefixLength})
	case wfp.Range:
		if x.Low == nil || x.High == nil {
			return fmt.Errorf("fwpm: a range without both ends (low %v, high %v): want two values of the same type: %w", x.Low, x.High, wfp.ErrInvalidRange)
		}
		if x.Low.Type() != x.High.Type() {
			return fmt.Errorf("fwpm: a range from %s to %s: want both ends of the same type: %w", x.Low.Type(), x.High.Type(), wfp.ErrInvalidRange)
		}
		var r *Range0
		if r, err = alloc[Range0](a); err == nil {
			if err = EncodeValue(a, &r.Low, x.Low); err == nil {
				err = EncodeValue(a, &r.High, x.High)
			}
			p = unsafe.Pointer(r)
		}
	default:
		return fmt.Errorf("fwpm: cannot encode a value of type %s (%T): want one of the FWP_DATA_TYPE values of package wfp", v.Type(), v)
	}
	if err != nil {
		return err
	}
	if p != nil {
		dst.Data = p
	}
	return nil
}

func encodeTokenInformation(a *Arena, t wfp.TokenInformation) (unsafe.Pointer, error) {
	ti, err := alloc[TokenInformation](a)
	if err != nil {
		return nil, err
	}
	enc := func(sids []wfp.SID) (*SIDAndAttributes, error) {
		arr, err := allocSlice[SIDAndAttributes](a, len(sids))
		if err != nil || len(arr) == 0 {
			return nil, err
		}
		for i, s := range sids {
			if _, err := sidLen(s); err != nil {
				return nil, err
			}
			if arr[i].SID, err = a.Bytes(s); err != nil {
				return nil, err
			}
		}
		return &arr[0], nil
	}
	if ti.SIDs, err = enc(t.SIDs); err != nil {
		return nil, err
	}
	if ti.RestrictedSIDs, err = enc(t.RestrictedSIDs); err != nil {
		return nil, err
	}
	ti.SIDCount, ti.RestrictedSIDCount = uint32(len(t.SIDs)), uint32(len(t.RestrictedSIDs))
	return unsafe.Pointer(ti), nil
}

// DecodeValue reads an FWP_VALUE0 or FWP_CONDITION_VALUE0 (from the arena or from
// memory the BFE returned) into a wfp.Value, copying everything into the Go heap.
func DecodeValue(v *Value0) (wfp.Value, error) {
	t := wfp.DataType(v.Type)
	needPtr := func() error {
		if v.Data == nil {
			return fmt.Errorf("fwpm: a value of type %s with a NULL pointer: want the address of its data: %w", t, wfp.ErrNullPointer)
		}
		return nil
	}
	switch t {
	case wfp.TypeEmpty:
		return wfp.Empty{}, nil
	case wfp.TypeUint8:
		return wfp.Uint8(*inline[uint8](v)), nil
	case wfp.TypeUint16:
		return wfp.Uint16(*inline[uint16](v)), nil
	case wfp.TypeUint32:
		return wfp.Uint32(*inline[uint32](v)), nil
	case wfp.TypeInt8:
		return wfp.Int8(*inline[int8](v)), nil
	case wfp.TypeInt16:
		return wfp.Int16(*inline[int16](v)), nil
	case wfp.TypeInt32:
		return wfp.Int32(*inline[int32](v)), nil
	case wfp.TypeFloat:
		return wfp.Float(math.Float32frombits(*inline[uint32](v))), nil
	case wfp.TypeBitmapIndex:
		return wfp.BitmapIndex(*inline[uint8](v)), nil
	}
	if err := needPtr(); err != nil {
		return nil, err
	}
	switch t {
	case wfp.TypeUint64:
		return wfp.Uint64(*(*uint64)(v.Data)), nil
	case wfp.TypeInt64:
		return wfp.Int64(*(*int64)(v.Data)), nil
	case wfp.TypeDouble:
		return wfp.Double(math.Float64frombits(*(*uint64)(v.Data))), nil
	case wfp.TypeByteArray16:
		return wfp.ByteArray16(*(*ByteArray16)(v.Data)), nil
	case wfp.TypeByteArray6:
		return wfp.ByteArray6(*(*ByteArray6)(v.Data)), nil
	case wfp.TypeBitmapArray64:
		return wfp.BitmapArray64(*(*[8]byte)(v.Data)), nil
	case wfp.TypeByteBlob:
		b := BlobBytes(*(*ByteBlob)(v.Data))
		if b == nil {
			b = []byte{}
		}
		return wfp.ByteBlob(b), nil
	case wfp.TypeUnicodeString:
		return wfp.UnicodeString(UTF16ToString((*uint16)(v.Data))), nil
	case wfp.TypeSID:
		s, err := SIDBytes((*byte)(v.Data))
		return wfp.SID(s), err
	case wfp.TypeSecurityDescriptor:
		s, err := SecurityDescriptorToSDDL(BlobBytes(*(*ByteBlob)(v.Data)))
		return wfp.SecurityDescriptor(s), err
	case wfp.TypeTokenInformation:
		return decodeTokenInformation((*TokenInformation)(v.Data))
	case wfp.TypeV4AddrMask:
		m := (*V4AddrAndMask)(v.Data)
		return wfp.V4AddrMask{Addr: m.Addr, Mask: m.Mask}, nil
	case wfp.TypeV6AddrMask:
		m := (*V6AddrAndMask)(v.Data)
		return wfp.V6AddrMask{Addr: m.Addr, PrefixLength: m.PrefixLength}, nil
	case wfp.TypeRange:
		r := (*Range0)(v.Data)
		lo, err := DecodeValue(&r.Low)
		if err != nil {
			return nil, fmt.Errorf("fwpm: range low end: %w", err)
		}
		hi, err := DecodeValue(&r.High)
		if err != nil {
			return nil, fmt.Errorf("fwpm: range high end: %w", err)
		}
		return wfp.Range{Low: lo, High: hi}, nil
	}
	return nil, fmt.Errorf("fwpm: cannot decode a value of type %s: want one of the FWP_DATA_TYPE numbers 0..20 or 256..258: %w", t, wfp.ErrTypeMismatch)
}

// SIDBytes copies the binary SID at p (its length follows from its sub-authority
// count); nil for a NULL p.
func SIDBytes(p *byte) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	hdr := unsafe.Slice(p, 8)
	n := 8 + 4*int(hdr[1])
	s := append([]byte(nil), unsafe.Slice(p, n)...)
	if _, err := sidLen(s); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeTokenInformation(ti *TokenInformation) (wfp.Value, error) {
	dec := func(p *SIDAndAttributes, n uint32) ([]wfp.SID, error) {
		if n == 0 || p == nil {
			return nil, nil
		}
		out := make([]wfp.SID, n)
		for i, sa := range unsafe.Slice(p, n) {
			s, err := SIDBytes(sa.SID)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	sids, err := dec(ti.SIDs, ti.SIDCount)
	if err != nil {
		return nil, err
	}
	rs, err := dec(ti.RestrictedSIDs, ti.RestrictedSIDCount)
	if err != nil {
		return nil, err
	}
	return wfp.TokenInformation{SIDs: sids, RestrictedSIDs: rs}, nil
}
