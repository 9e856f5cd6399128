package wfp

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Value is one FWP_VALUE0 or FWP_CONDITION_VALUE0: an incoming value at a layer or
// the operand of a filter condition. The interface is closed: the types below, one
// per FWP_DATA_TYPE, are all there is, so a switch over them is exhaustive.
//
// Numbers are in host order, as Windows passes ports and IPv4 addresses (rule B7);
// IPv6 addresses are 16 raw bytes.
type Value interface {
	// Type returns the FWP_DATA_TYPE tag.
	Type() DataType
	// String formats the value so that ParseValue(v.Type(), v.String()) gives it back.
	String() string
	isValue()
}

type (
	// Empty is FWP_EMPTY: no value. An incoming field the stack cannot fill is Empty,
	// and an EQUAL condition on Empty matches it (rule B6).
	Empty  struct{}
	Uint8  uint8   // FWP_UINT8
	Uint16 uint16  // FWP_UINT16
	Uint32 uint32  // FWP_UINT32; also an IPv4 address in host order
	Uint64 uint64  // FWP_UINT64
	Int8   int8    // FWP_INT8
	Int16  int16   // FWP_INT16
	Int32  int32   // FWP_INT32
	Int64  int64   // FWP_INT64
	Float  float32 // FWP_FLOAT
	Double float64 // FWP_DOUBLE
	// ByteArray16 is FWP_BYTE_ARRAY16_TYPE: an IPv6 address, an RPC interface UUID.
	ByteArray16 [16]byte
	// ByteBlob is FWP_BYTE_BLOB_TYPE. App ids are blobs holding a NUL-terminated
	// UTF-16LE string (see AppID).
	ByteBlob []byte
	// SID is FWP_SID, in its binary form (see ParseSID).
	SID []byte
	// SecurityDescriptor is FWP_SECURITY_DESCRIPTOR_TYPE, held as SDDL text
	// ("O:LSD:(A;;CC;;;S-1-5-18)"). Conditions on user and machine ids use it: the
	// condition matches when the descriptor grants access to the incoming token.
	SecurityDescriptor string
	// UnicodeString is FWP_UNICODE_STRING_TYPE.
	UnicodeString string
	// ByteArray6 is FWP_BYTE_ARRAY6_TYPE: a MAC address.
	ByteArray6 [6]byte
	// BitmapIndex is FWP_BITMAP_INDEX_TYPE: a bit number 0..63.
	BitmapIndex uint8
	// BitmapArray64 is FWP_BITMAP_ARRAY64_TYPE: 64 bits, bit i in byte i/8.
	BitmapArray64 [8]byte
)

// TokenInformation is FWP_TOKEN_INFORMATION: the SIDs of a token and its restricted SIDs.
type TokenInformation struct {
	SIDs           []SID
	RestrictedSIDs []SID
}

// TokenAccessInformation is FWP_TOKEN_ACCESS_INFORMATION_TYPE, the incoming value of
// the ALE user-id fields: the token's user and the groups it belongs to.
type TokenAccessInformation struct {
	User   SID
	Groups []SID
}

// V4AddrMask is FWP_V4_ADDR_AND_MASK: a condition value matching an IPv4 subnet.
// Addr and Mask are in host order.
type V4AddrMask struct {
	Addr uint32
	Mask uint32
}

// V6AddrMask is FWP_V6_ADDR_AND_MASK: a condition value matching an IPv6 prefix.
type V6AddrMask struct {
	Addr         [16]byte
	PrefixLength uint8
}

// Range is FWP_RANGE0, the operand of FWP_MATCH_RANGE: Low and High have the same type
// and both ends are included.
type Range struct {
	Low, High Value
}

func (Empty) Type() DataType                  { return TypeEmpty }
func (Uint8) Type() DataType                  { return TypeUint8 }
func (Uint16) Type() DataType                 { return TypeUint16 }
func (Uint32) Type() DataType                 { return TypeUint32 }
func (Uint64) Type() DataType                 { return TypeUint64 }
func (Int8) Type() DataType                   { return TypeInt8 }
func (Int16) Type() DataType                  { return TypeInt16 }
func (Int32) Type() DataType                  { return TypeInt32 }
func (Int64) Type() DataType                  { return TypeInt64 }
func (Float) Type() DataType                  { return TypeFloat }
func (Double) Type() DataType                 { return TypeDouble }
func (ByteArray16) Type() DataType            { return TypeByteArray16 }
func (ByteBlob) Type() DataType               { return TypeByteBlob }
func (SID) Type() DataType                    { return TypeSID }
func (SecurityDescriptor) Type() DataType     { return TypeSecurityDescriptor }
func (TokenInformation) Type() DataType       { return TypeTokenInformation }
func (TokenAccessInformation) Type() DataType { return TypeTokenAccessInformation }
func (UnicodeString) Type() DataType          { return TypeUnicodeString }
func (ByteArray6) Type() DataType             { return TypeByteArray6 }
func (BitmapIndex) Type() DataType            { return TypeBitmapIndex }
func (BitmapArray64) Type() DataType          { return TypeBitmapArray64 }
func (V4AddrMask) Type() DataType             { return TypeV4AddrMask }
func (V6AddrMask) Type() DataType             { return TypeV6AddrMask }
func (Range) Type() DataType                  { return TypeRange }

func (Empty) isValue()                  {}
func (Uint8) isValue()                  {}
func (Uint16) isValue()                 {}
func (Uint32) isValue()                 {}
func (Uint64) isValue()                 {}
func (Int8) isValue()                   {}
func (Int16) isValue()                  {}
func (Int32) isValue()                  {}
func (Int64) isValue()                  {}
func (Float) isValue()                  {}
func (Double) isValue()                 {}
func (ByteArray16) isValue()            {}
func (ByteBlob) isValue()               {}
func (SID) isValue()                    {}
func (SecurityDescriptor) isValue()     {}
func (TokenInformation) isValue()       {}
func (TokenAccessInformation) isValue() {}
func (UnicodeString) isValue()          {}
func (ByteArray6) isValue()             {}
func (BitmapIndex) isValue()            {}
func (BitmapArray64) isValue()          {}
func (V4AddrMask) isValue()             {}
func (V6AddrMask) isValue()             {}
func (Range) isValue()                  {}

func (Empty) String() string    { return "empty" }
func (v Uint8) String() string  { return strconv.FormatUint(uint64(v), 10) }
func (v Uint16) String() string { return strconv.FormatUint(uint64(v), 10) }
func (v Uint32) String() string { return strconv.FormatUint(uint64(v), 10) }
func (v Uint64) String() string { return strconv.FormatUint(uint64(v), 10) }
func (v Int8) String() string   { return strconv.FormatInt(int64(v), 10) }
func (v Int16) String() string  { return strconv.FormatInt(int64(v), 10) }
func (v Int32) String() string  { return strconv.FormatInt(int64(v), 10) }
func (v Int64) String() string  { return strconv.FormatInt(int64(v), 10) }
func (v Float) String() string  { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
func (v Double) String() string { return strconv.FormatFloat(float64(v), 'g', -1, 64) }

// String formats the 16 bytes as an IPv6 address.
func (v ByteArray16) String() string { return netip.AddrFrom16(v).String() }

// String formats a blob holding a NUL-terminated UTF-16LE string (an app id) as that
// string, and any other blob as "0x" and hex digits.
func (v ByteBlob) String() string {
	if s, ok := v.UTF16(); ok {
		return s
	}
	return "0x" + hex.EncodeToString(v)
}

// UTF16 decodes a blob holding a NUL-terminated UTF-16LE string of printable text.
func (v ByteBlob) UTF16() (string, bool) {
	if len(v) < 2 || len(v)%2 != 0 || v[len(v)-1] != 0 || v[len(v)-2] != 0 {
		return "", false
	}
	units := make([]uint16, 0, len(v)/2-1)
	for i := 0; i+1 < len(v)-2; i += 2 {
		units = append(units, binary.LittleEndian.Uint16(v[i:]))
	}
	runes := utf16.Decode(units)
	for _, r := range runes {
		if r < 0x20 || r == utf8.RuneError {
			return "", false
		}
	}
	return string(runes), true
}

func (v SecurityDescriptor) String() string { return string(v) }
func (v UnicodeString) String() string      { return string(v) }

// String formats the MAC address as 00-11-22-33-44-55, as Windows prints it.
func (v ByteArray6) String() string {
	return fmt.Sprintf("%02x-%02x-%02x-%02x-%02x-%02x", v[0], v[1], v[2], v[3], v[4], v[5])
}
func (v BitmapIndex) String() string   { return strconv.Itoa(int(v)) }
func (v BitmapArray64) String() string { return "0x" + hex.EncodeToString(v[:]) }

func (v TokenInformation) String() string {
	return "sids=" + joinSIDs(v.SIDs) + ";restricted=" + joinSIDs(v.RestrictedSIDs)
}

func (v TokenAccessInformation) String() string {
	return "user=" + v.User.String() + ";groups=" + joinSIDs(v.Groups)
}

func joinSIDs(s []SID) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

// String formats the subnet as CIDR, "10.0.0.0/8", or as "addr/mask" when the mask is
// not contiguous.
func (v V4AddrMask) String() string {
	addr := V4ToAddr(v.Addr)
	if ones, ok := maskOnes(v.Mask); ok && v.Addr&^v.Mask == 0 {
		return netip.PrefixFrom(addr, ones).String()
	}
	// A mask that is not contiguous, or an address with bits outside it: the dotted
	// form keeps both exactly.
	return addr.String() + "/" + V4ToAddr(v.Mask).String()
}

func (v V6AddrMask) String() string {
	return netip.AddrFrom16(v.Addr).String() + "/" + strconv.Itoa(int(v.PrefixLength))
}

func (v Range) String() string {
	if v.Low == nil || v.High == nil {
		return "invalid-range"
	}
	lo, hi := v.Low.String(), v.High.String()
	if strings.Contains(lo, "-") || strings.Contains(hi, "-") {
		return lo + ".." + hi // negative numbers, MAC addresses, SIDs contain '-'
	}
	return lo + "-" + hi
}

func maskOnes(m uint32) (int, bool) {
	ones := 0
	for ones < 32 && m&(1<<(31-ones)) != 0 {
		ones++
	}
	if ones < 32 && m<<ones != 0 {
		return 0, false
	}
	return ones, true
}

// V4Mask returns the host-order mask of a prefix length 0..32.
func V4Mask(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	if bits >= 32 {
		return math.MaxUint32
	}
	return ^uint32(0) << (32 - bits)
}

// V4FromAddr returns an IPv4 address as the host-order UINT32 that WFP uses (rule B7).
func V4FromAddr(a netip.Addr) Uint32 {
	b := a.Unmap().As4()
	return Uint32(binary.BigEndian.Uint32(b[:]))
}

// V4ToAddr is the inverse of V4FromAddr.
func V4ToAddr(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

// V6FromAddr returns an IPv6 address as the 16 bytes WFP uses.
func V6FromAddr(a netip.Addr) ByteArray16 { return ByteArray16(a.As16()) }

// AddrValue returns the incoming value of an address field: Uint32 for IPv4 and
// ByteArray16 for IPv6.
func AddrValue(a netip.Addr) Value {
	if a.Unmap().Is4() {
		return V4FromAddr(a)
	}
	return V6FromAddr(a)
}

// PrefixValue returns the condition value of a subnet: V4AddrMask or V6AddrMask.
// A single address (a full-length prefix) is still a mask value.
func PrefixValue(p netip.Prefix) Value {
	p = p.Masked()
	if p.Addr().Unmap().Is4() {
		bits := p.Bits()
		if p.Addr().Is4In6() {
			bits -= 96
		}
		return V4AddrMask{Addr: uint32(V4FromAddr(p.Addr())), Mask: V4Mask(bits)}
	}
	return V6AddrMask{Addr: p.Addr().As16(), PrefixLength: uint8(p.Bits())}
}

// AppID builds the byte blob Windows uses for FWPM_CONDITION_ALE_APP_ID: the
// NUL-terminated UTF-16LE form of the path. The path should already be the NT device
// path in lower case, as FwpmGetAppIdFromFileName0 returns it
// ("\device\harddiskvolume3\windows\system32\svchost.exe"); AppID does not convert.
func AppID(path string) ByteBlob {
	return UTF16Blob(path)
}

// UTF16Blob encodes s as a NUL-terminated UTF-16LE byte blob.
func UTF16Blob(s string) ByteBlob {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(units)+2)
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return ByteBlob(b)
}

// Unsigned returns an unsigned integer value (FWP_UINT8 to FWP_UINT64) widened to
// uint64, with the largest value of its type; ok is false for every other type.
func Unsigned(v Value) (n, max uint64, ok bool) {
	switch x := v.(type) {
	case Uint8:
		return uint64(x), math.MaxUint8, true
	case Uint16:
		return uint64(x), math.MaxUint16, true
	case Uint32:
		return uint64(x), math.MaxUint32, true
	case Uint64:
		return uint64(x), math.MaxUint64, true
	}
	return 0, 0, false
}
