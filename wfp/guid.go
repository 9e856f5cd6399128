package wfp

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a Windows GUID with the same fields as windows.GUID, so the Windows
// backend converts with a plain type conversion. It is comparable and usable as a
// map key. The zero GUID means "unset": on add, the BFE assigns a key (rule E5).
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// ParseGUID parses the textual form of a GUID: 32 hex digits as 8-4-4-4-12, with or
// without surrounding braces, in any letter case.
func ParseGUID(s string) (GUID, error) {
	t := s
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		t = t[1 : len(t)-1]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return GUID{}, fmt.Errorf("wfp: invalid GUID %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: %w", s, ErrInvalid)
	}
	var b [16]byte
	if _, err := hex.Decode(b[:], []byte(t[0:8]+t[9:13]+t[14:18]+t[19:23]+t[24:36])); err != nil {
		return GUID{}, fmt.Errorf("wfp: invalid GUID %q: %v: %w", s, err, ErrInvalid)
	}
	g := GUID{
		Data1: binary.BigEndian.Uint32(b[0:4]),
		Data2: binary.BigEndian.Uint16(b[4:6]),
		Data3: binary.BigEndian.Uint16(b[6:8]),
	}
	copy(g.Data4[:], b[8:])
	return g, nil
}

// MustParseGUID is ParseGUID for constants written in code; it panics on a
// malformed literal, which is a programming error, never user input.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// String returns the lower-case form without braces,
// "c38d57d1-05a7-4c33-904f-7fbceee60e82".
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		g.Data1, g.Data2, g.Data3, g.Data4[0], g.Data4[1],
		g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7])
}

// IsZero reports whether g is the zero GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// MarshalText implements encoding.TextMarshaler with the String form.
func (g GUID) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what ParseGUID accepts.
func (g *GUID) UnmarshalText(b []byte) error {
	p, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = p
	return nil
}

// wfpsimNamespace is the namespace of name-derived keys (a fixed random UUID).
var wfpsimNamespace = MustParseGUID("6b1e3c57-2f0a-4f6e-9d51-3a8c7e0b9f24")

// GUIDFromName derives a deterministic version-5 (SHA-1, RFC 9562) GUID from a kind
// ("filter", "sublayer", ...) and a name, so a policy document gives the same keys on
// every run and on Windows.
func GUIDFromName(kind, name string) GUID {
	h := sha1.New()
	var ns [16]byte
	binary.BigEndian.PutUint32(ns[0:4], wfpsimNamespace.Data1)
	binary.BigEndian.PutUint16(ns[4:6], wfpsimNamespace.Data2)
	binary.BigEndian.PutUint16(ns[6:8], wfpsimNamespace.Data3)
	copy(ns[8:], wfpsimNamespace.Data4[:])
	h.Write(ns[:])
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(name))
	sum := h.Sum(nil)
	sum[6] = sum[6]&0x0f | 0x50 // version 5
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	g := GUID{
		Data1: binary.BigEndian.Uint32(sum[0:4]),
		Data2: binary.BigEndian.Uint16(sum[4:6]),
		Data3: binary.BigEndian.Uint16(sum[6:8]),
	}
	copy(g.Data4[:], sum[8:16])
	return g
}

// The key types name management objects (FWPM_*: a GUID unique per object type, rule
// E5). Each is a distinct type so a filter key cannot be passed where a layer key is
// expected; all are comparable and print as their GUID.
type (
	LayerKey    GUID // FWPM_LAYER0.layerKey
	SublayerKey GUID // FWPM_SUBLAYER0.subLayerKey
	FilterKey   GUID // FWPM_FILTER0.filterKey
	CalloutKey  GUID // FWPM_CALLOUT0.calloutKey
	ProviderKey GUID // FWPM_PROVIDER0.providerKey
	FieldKey    GUID // FWPM_CONDITION_* (FWPM_FILTER_CONDITION0.fieldKey)
)

func (k LayerKey) String() string    { return GUID(k).String() }
func (k SublayerKey) String() string { return GUID(k).String() }
func (k FilterKey) String() string   { return GUID(k).String() }
func (k CalloutKey) String() string  { return GUID(k).String() }
func (k ProviderKey) String() string { return GUID(k).String() }
func (k FieldKey) String() string    { return GUID(k).String() }

func (k LayerKey) IsZero() bool    { return GUID(k).IsZero() }
func (k SublayerKey) IsZero() bool { return GUID(k).IsZero() }
func (k FilterKey) IsZero() bool   { return GUID(k).IsZero() }
func (k CalloutKey) IsZero() bool  { return GUID(k).IsZero() }
func (k ProviderKey) IsZero() bool { return GUID(k).IsZero() }
func (k FieldKey) IsZero() bool    { return GUID(k).IsZero() }

func (k LayerKey) MarshalText() ([]byte, error)    { return GUID(k).MarshalText() }
func (k SublayerKey) MarshalText() ([]byte, error) { return GUID(k).MarshalText() }
func (k FilterKey) MarshalText() ([]byte, error)   { return GUID(k).MarshalText() }
func (k CalloutKey) MarshalText() ([]byte, error)  { return GUID(k).MarshalText() }
func (k ProviderKey) MarshalText() ([]byte, error) { return GUID(k).MarshalText() }
func (k FieldKey) MarshalText() ([]byte, error)    { return GUID(k).MarshalText() }

func (k *LayerKey) UnmarshalText(b []byte) error    { return (*GUID)(k).UnmarshalText(b) }
func (k *SublayerKey) UnmarshalText(b []byte) error { return (*GUID)(k).UnmarshalText(b) }
func (k *FilterKey) UnmarshalText(b []byte) error   { return (*GUID)(k).UnmarshalText(b) }
func (k *CalloutKey) UnmarshalText(b []byte) error  { return (*GUID)(k).UnmarshalText(b) }
func (k *ProviderKey) UnmarshalText(b []byte) error { return (*GUID)(k).UnmarshalText(b) }
func (k *FieldKey) UnmarshalText(b []byte) error    { return (*GUID)(k).UnmarshalText(b) }

// Runtime identifiers (FWPS_*), assigned by the engine (rule E5).
type (
	FilterID  uint64 // FWPM_FILTER0.filterId == FWPS_FILTER0.filterId
	CalloutID uint32 // FWPM_CALLOUT0.calloutId
	LayerID   uint16 // FWPS_BUILTIN_LAYERS value
)
