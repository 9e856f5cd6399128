package wfp

import (
	"fmt"
	"strings"
)

// DataType is FWP_DATA_TYPE: the type tag of an FWP_VALUE0 or FWP_CONDITION_VALUE0,
// with the Windows numbers.
type DataType uint32

const (
	TypeEmpty                  DataType = 0   // FWP_EMPTY
	TypeUint8                  DataType = 1   // FWP_UINT8
	TypeUint16                 DataType = 2   // FWP_UINT16
	TypeUint32                 DataType = 3   // FWP_UINT32
	TypeUint64                 DataType = 4   // FWP_UINT64
	TypeInt8                   DataType = 5   // FWP_INT8
	TypeInt16                  DataType = 6   // FWP_INT16
	TypeInt32                  DataType = 7   // FWP_INT32
	TypeInt64                  DataType = 8   // FWP_INT64
	TypeFloat                  DataType = 9   // FWP_FLOAT
	TypeDouble                 DataType = 10  // FWP_DOUBLE
	TypeByteArray16            DataType = 11  // FWP_BYTE_ARRAY16_TYPE
	TypeByteBlob               DataType = 12  // FWP_BYTE_BLOB_TYPE
	TypeSID                    DataType = 13  // FWP_SID
	TypeSecurityDescriptor     DataType = 14  // FWP_SECURITY_DESCRIPTOR_TYPE
	TypeTokenInformation       DataType = 15  // FWP_TOKEN_INFORMATION_TYPE
	TypeTokenAccessInformation DataType = 16  // FWP_TOKEN_ACCESS_INFORMATION_TYPE
	TypeUnicodeString          DataType = 17  // FWP_UNICODE_STRING_TYPE
	TypeByteArray6             DataType = 18  // FWP_BYTE_ARRAY6_TYPE
	TypeBitmapIndex            DataType = 19  // FWP_BITMAP_INDEX_TYPE
	TypeBitmapArray64          DataType = 20  // FWP_BITMAP_ARRAY64_TYPE
	TypeV4AddrMask             DataType = 256 // FWP_V4_ADDR_MASK (condition values only)
	TypeV6AddrMask             DataType = 257 // FWP_V6_ADDR_MASK (condition values only)
	TypeRange                  DataType = 258 // FWP_RANGE_TYPE (condition values only)
)

var dataTypeNames = map[DataType]string{
	TypeEmpty:                  "FWP_EMPTY",
	TypeUint8:                  "FWP_UINT8",
	TypeUint16:                 "FWP_UINT16",
	TypeUint32:                 "FWP_UINT32",
	TypeUint64:                 "FWP_UINT64",
	TypeInt8:                   "FWP_INT8",
	TypeInt16:                  "FWP_INT16",
	TypeInt32:                  "FWP_INT32",
	TypeInt64:                  "FWP_INT64",
	TypeFloat:                  "FWP_FLOAT",
	TypeDouble:                 "FWP_DOUBLE",
	TypeByteArray16:            "FWP_BYTE_ARRAY16_TYPE",
	TypeByteBlob:               "FWP_BYTE_BLOB_TYPE",
	TypeSID:                    "FWP_SID",
	TypeSecurityDescriptor:     "FWP_SECURITY_DESCRIPTOR_TYPE",
	TypeTokenInformation:       "FWP_TOKEN_INFORMATION_TYPE",
	TypeTokenAccessInformation: "FWP_TOKEN_ACCESS_INFORMATION_TYPE",
	TypeUnicodeString:          "FWP_UNICODE_STRING_TYPE",
	TypeByteArray6:             "FWP_BYTE_ARRAY6_TYPE",
	TypeBitmapIndex:            "FWP_BITMAP_INDEX_TYPE",
	TypeBitmapArray64:          "FWP_BITMAP_ARRAY64_TYPE",
	TypeV4AddrMask:             "FWP_V4_ADDR_MASK",
	TypeV6AddrMask:             "FWP_V6_ADDR_MASK",
	TypeRange:                  "FWP_RANGE_TYPE",
}

// DataTypes lists every data type in numeric order.
func DataTypes() []DataType {
	return []DataType{TypeEmpty, TypeUint8, TypeUint16, TypeUint32, TypeUint64, TypeInt8,
		TypeInt16, TypeInt32, TypeInt64, TypeFloat, TypeDouble, TypeByteArray16, TypeByteBlob,
		TypeSID, TypeSecurityDescriptor, TypeTokenInformation, TypeTokenAccessInformation,
		TypeUnicodeString, TypeByteArray6, TypeBitmapIndex, TypeBitmapArray64,
		TypeV4AddrMask, TypeV6AddrMask, TypeRange}
}

// String returns the C name, "FWP_UINT16".
func (t DataType) String() string {
	if n, ok := dataTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("FWP_DATA_TYPE(%d)", uint32(t))
}

// ParseDataType reads a C name with or without the FWP_ prefix and _TYPE suffix,
// in any case: "FWP_UINT16", "uint16", "byte_blob".
func ParseDataType(s string) (DataType, error) {
	want := normalizeName(s, "FWP_")
	for t, n := range dataTypeNames {
		c := strings.TrimPrefix(n, "FWP_")
		if want == c || want+"_TYPE" == c {
			return t, nil
		}
	}
	return 0, fmt.Errorf("wfp: unknown data type %q: %w", s, ErrInvalid)
}

// IsUnsigned reports the unsigned integer types, the only ones that take the
// FLAGS_* match types (rule B5).
func (t DataType) IsUnsigned() bool {
	return t >= TypeUint8 && t <= TypeUint64
}

// IsInteger reports every integer width, signed or not.
func (t DataType) IsInteger() bool { return t >= TypeUint8 && t <= TypeInt64 }

// IsSortable reports the types that take the ordered match types GREATER, LESS,
// GREATER_OR_EQUAL, LESS_OR_EQUAL, RANGE and NOT_EQUAL: the integer types,
// BYTE_ARRAY16, BYTE_BLOB and UNICODE_STRING (rule B5).
func (t DataType) IsSortable() bool {
	return t.IsInteger() || t == TypeByteArray16 || t == TypeByteBlob || t == TypeUnicodeString
}

// AcceptsMatch reports whether a condition value of type t may be used with match
// type m (rule B5; conditions.tsv lists the same per condition and a test checks
// that the two agree). A RANGE condition's value has TypeRange; pass the type of
// its bounds here.
func (t DataType) AcceptsMatch(m MatchType) bool {
	switch m {
	case MatchEqual:
		return t != TypeRange
	case MatchNotEqual:
		// The documentation allows NOT_EQUAL on sortable types only, but Windows
		// Firewall's own filters test FWP_SID values with it (ALE_PACKAGE_ID not_equal
		// the NULL SID, in every real dump; layers/facts/match_types_observed.tsv).
		return t.IsSortable() || t == TypeSID
	case MatchGreater, MatchLess, MatchGreaterOrEqual, MatchLessOrEqual, MatchRange:
		return t.IsSortable()
	case MatchFlagsAllSet, MatchFlagsAnySet, MatchFlagsNoneSet:
		return t.IsUnsigned()
	case MatchEqualCaseInsensitive:
		return t == TypeUnicodeString
	case MatchPrefix, MatchNotPrefix:
		return t == TypeByteBlob || t == TypeUnicodeString
	}
	return false
}

// normalizeName upper-cases s, turns '-' and ' ' into '_' and strips prefix.
func normalizeName(s, prefix string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.NewReplacer("-", "_", " ", "_").Replace(u)
	return strings.TrimPrefix(u, prefix)
}
