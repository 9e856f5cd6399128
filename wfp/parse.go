package wfp

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseValue reads the text form of a value of type t, the inverse of Value.String:
//
//	integers       decimal or 0x hex ("443", "0x1bb"); FWP_UINT32 also takes a dotted IPv4 address
//	FWP_FLOAT/DOUBLE  a decimal number
//	FWP_BYTE_ARRAY16_TYPE  an IPv6 address, or 32 hex digits
//	FWP_BYTE_BLOB_TYPE     "0x" and hex digits, or text (stored as NUL-terminated UTF-16LE)
//	FWP_SID                "S-1-5-18"
//	FWP_SECURITY_DESCRIPTOR_TYPE  SDDL text
//	FWP_UNICODE_STRING_TYPE       any text
//	FWP_BYTE_ARRAY6_TYPE   a MAC address, 00-11-22-33-44-55 or 00:11:22:33:44:55
//	FWP_V4_ADDR_MASK       "10.0.0.0/8", "10.1.2.3" (a /32) or "10.0.0.0/255.0.0.0"
//	FWP_V6_ADDR_MASK       "2001:db8::/32" or an address (a /128)
//	FWP_RANGE_TYPE         use ParseRange with the type of the bounds
//	FWP_EMPTY              "" or "empty"
//
// Errors wrap ErrTypeMismatch and say what was expected.
func ParseValue(t DataType, s string) (Value, error) {
	bad := func(want string) error {
		return fmt.Errorf("wfp: %q is not a valid %s value: want %s: %w", s, t, want, ErrTypeMismatch)
	}
	s0 := s
	s = strings.TrimSpace(s)
	switch t {
	case TypeEmpty:
		if s == "" || strings.EqualFold(s, "empty") {
			return Empty{}, nil
		}
		return nil, bad(`"empty"`)
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		bits := map[DataType]int{TypeUint8: 8, TypeUint16: 16, TypeUint32: 32, TypeUint64: 64}[t]
		if t == TypeUint32 && strings.Count(s, ".") == 3 {
			if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
				return V4FromAddr(a), nil
			}
		}
		u, err := strconv.ParseUint(s, 0, bits)
		if err != nil {
			return nil, bad(fmt.Sprintf("an unsigned %d-bit integer", bits))
		}
		switch t {
		case TypeUint8:
			return Uint8(u), nil
		case TypeUint16:
			return Uint16(u), nil
		case TypeUint32:
			return Uint32(u), nil
		}
		return Uint64(u), nil
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		bits := map[DataType]int{TypeInt8: 8, TypeInt16: 16, TypeInt32: 32, TypeInt64: 64}[t]
		i, err := strconv.ParseInt(s, 0, bits)
		if err != nil {
			return nil, bad(fmt.Sprintf("a signed %d-bit integer", bits))
		}
		switch t {
		case TypeInt8:
			return Int8(i), nil
		case TypeInt16:
			return Int16(i), nil
		case TypeInt32:
			return Int32(i), nil
		}
		return Int64(i), nil
	case TypeFloat, TypeDouble:
		bits := 64
		if t == TypeFloat {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil {
			return nil, bad("a number")
		}
		if t == TypeFloat {
			return Float(f), nil
		}
		return Double(f), nil
	case TypeByteArray16:
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			return ByteArray16(a.As16()), nil
		}
		b, err := hex.DecodeString(strings.TrimPrefix(strings.ReplaceAll(s, "-", ""), "0x"))
		if err != nil || len(b) != 16 {
			return nil, bad("an IPv6 address or 32 hex digits")
		}
		return ByteArray16(b), nil
	case TypeByteBlob:
		if strings.HasPrefix(s, "0x") {
			b, err := hex.DecodeString(s[2:])
			if err != nil {
				return nil, bad(`"0x" and an even number of hex digits`)
			}
			return ByteBlob(b), nil
		}
		return UTF16Blob(s0), nil
	case TypeSID:
		sid, err := ParseSID(s)
		if err != nil {
			return nil, bad("a SID such as S-1-5-18")
		}
		return sid, nil
	case TypeSecurityDescriptor:
		if s == "" {
			return nil, bad("SDDL text such as D:(A;;CC;;;S-1-5-18)")
		}
		return SecurityDescriptor(s), nil
	case TypeUnicodeString:
		return UnicodeString(s0), nil
	case TypeByteArray6:
		mac, err := net.ParseMAC(s)
		if err != nil || len(mac) != 6 {
			return nil, bad("a MAC address such as 00-11-22-33-44-55")
		}
		return ByteArray6(mac), nil
	case TypeBitmapIndex:
		u, err := strconv.ParseUint(s, 0, 8)
		if err != nil || u > 63 {
			return nil, bad("a bit index 0..63")
		}
		return BitmapIndex(u), nil
	case TypeBitmapArray64:
		b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
		if err != nil || len(b) != 8 {
			return nil, bad("0x and 16 hex digits")
		}
		return BitmapArray64(b), nil
	case TypeV4AddrMask:
		if a, m, ok := strings.Cut(s, "/"); ok && strings.Contains(m, ".") {
			addr, err1 := netip.ParseAddr(a)
			mask, err2 := netip.ParseAddr(m)
			if err1 != nil || err2 != nil || !addr.Is4() || !mask.Is4() {
				return nil, bad("an IPv4 subnet such as 10.0.0.0/8")
			}
			return V4AddrMask{Addr: uint32(V4FromAddr(addr)), Mask: uint32(V4FromAddr(mask))}, nil
		}
		p, err := parsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return nil, bad("an IPv4 subnet such as 10.0.0.0/8 or an IPv4 address")
		}
		return PrefixValue(p), nil
	case TypeV6AddrMask:
		p, err := parsePrefix(s)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			return nil, bad("an IPv6 prefix such as 2001:db8::/32 or an IPv6 address")
		}
		// Keep the address as written: FWP_V6_ADDR_AND_MASK carries it with the length.
		return V6AddrMask{Addr: p.Addr().As16(), PrefixLength: uint8(p.Bits())}, nil
	case TypeRange:
		return nil, fmt.Errorf("wfp: a range needs the type of its bounds: use ParseRange: %w", ErrTypeMismatch)
	}
	return nil, fmt.Errorf("wfp: values of type %s have no text form: %w", t, ErrTypeMismatch)
}

// ParseRange reads "low-high" (or "low..high") with bounds of type t. For IPv6
// bounds, which contain no '-', either separator works.
func ParseRange(t DataType, s string) (Range, error) {
	lo, hi, ok := strings.Cut(s, "..")
	if !ok {
		lo, hi, ok = strings.Cut(s, "-")
	}
	if !ok {
		return Range{}, fmt.Errorf("wfp: %q is not a range: want low-high: %w", s, ErrInvalidRange)
	}
	l, err := ParseValue(t, lo)
	if err != nil {
		return Range{}, err
	}
	h, err := ParseValue(t, hi)
	if err != nil {
		return Range{}, err
	}
	return Range{Low: l, High: h}, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
