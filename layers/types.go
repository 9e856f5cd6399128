package layers

import (
	"slices"

	"github.com/wfpsim/wfpsim/wfp"
)

// Family is the IP address family a layer classifies.
type Family uint8

const (
	FamilyNone Family = iota // not tied to one family (MAC, vSwitch ethernet, RPC, ...)
	FamilyV4
	FamilyV6
)

func (f Family) String() string {
	switch f {
	case FamilyV4:
		return "v4"
	case FamilyV6:
		return "v6"
	}
	return "none"
}

// Direction is the traffic direction a layer sees.
type Direction uint8

const (
	DirectionNone      Direction = iota // not a packet path (ALE bind/listen, IPsec, RPC, ...)
	DirectionInbound                    // receive path
	DirectionOutbound                   // send path
	DirectionBoth                       // both directions (stream, datagram data)
	DirectionForwarded                  // forwarded traffic (IPFORWARD)
)

func (d Direction) String() string {
	switch d {
	case DirectionInbound:
		return "inbound"
	case DirectionOutbound:
		return "outbound"
	case DirectionBoth:
		return "both"
	case DirectionForwarded:
		return "forwarded"
	}
	return "none"
}

// Mode says where a layer is classified: in the kernel (TCP/IP stack) or in a
// user-mode service (BFE, IKEEXT, RPC).
type Mode uint8

const (
	ModeUnknown Mode = iota
	ModeKernel
	ModeUser
)

func (m Mode) String() string {
	switch m {
	case ModeKernel:
		return "kernel"
	case ModeUser:
		return "user"
	}
	return "unknown"
}

// Layer is one FWPM filtering layer.
type Layer struct {
	Key       wfp.LayerKey // FWPM_LAYER_* GUID; zero when !KeyKnown
	KeyKnown  bool
	Name      string // C name, "FWPM_LAYER_ALE_AUTH_CONNECT_V4"
	ShortName string // "ALE_AUTH_CONNECT_V4"
	FWPSName  string // run-time name, "FWPS_LAYER_ALE_AUTH_CONNECT_V4"
	FWPSNote  string // e.g. "not in SDK-2021 enum"

	ID      wfp.LayerID // FWPS_BUILTIN_LAYERS value; meaningful only when IDKnown
	IDKnown bool
	IDNote  string // e.g. "SDK-2021 value; user-mode IDs shift between SDKs"

	Family    Family
	Direction Direction
	Discard   bool // a discard layer: sees what was dropped at Twin
	Mode      Mode
	ModeNote  string // set when the mode is inferred
	Purpose   string // one line
	Source    string // where the row came from

	// Fields are the incoming values in FWPS_FIELD_* index order.
	Fields     []Field
	FieldsNote string // where Fields came from when not from this layer's own rows

	// Conditions are the conditions documented as valid at this layer
	// (layer_conditions.tsv), in table order.
	Conditions []LayerCondition

	Metadata       []string // FWPS_METADATA_FIELD_* that can be present
	ConditionFlags []string // FWP_CONDITION_FLAG_* that can appear
	DataOffset     string   // where the layerData NBL data offset points; "" when not documented

	// Twin links a layer with its discard layer and back; nil when there is none.
	Twin *Layer
}

// String returns the C name.
func (l *Layer) String() string { return l.Name }

// Field returns the layer's incoming-value field for a condition key. Aliases
// resolve: ICMP_TYPE finds the IP_LOCAL_PORT field.
func (l *Layer) Field(key wfp.FieldKey) (Field, bool) {
	if key.IsZero() {
		return Field{}, false
	}
	for _, f := range l.Fields {
		if f.Condition != nil && f.Condition.KeyKnown && f.Condition.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// AcceptsCondition reports whether the condition with this key is documented as
// valid at the layer (layer_conditions.tsv, rule B10).
func (l *Layer) AcceptsCondition(key wfp.FieldKey) bool {
	if key.IsZero() {
		return false
	}
	for _, c := range l.Conditions {
		if c.Condition != nil && c.Condition.KeyKnown && c.Condition.Key == key {
			return true
		}
	}
	return false
}

// LayerCondition is one row of layer_conditions.tsv for a layer.
type LayerCondition struct {
	Name      string     // FWPM_CONDITION_* as the table writes it
	Condition *Condition // nil when the name is not in conditions.tsv
	Since     string     // "Vista+", "Windows 7 and later", ...
}

// Field is one incoming value of a layer.
type Field struct {
	Index         int
	Name          string     // FWPS_FIELD_*
	ConditionName string     // FWPM_CONDITION_* the field corresponds to
	Condition     *Condition // nil when not in conditions.tsv
	Type          wfp.DataType
	TypeKnown     bool
	TypeNote      string // how Type was established, or why it is unknown
}

// Condition is one FWPM_CONDITION_* field key.
type Condition struct {
	Key       wfp.FieldKey // zero when !KeyKnown
	KeyKnown  bool
	Name      string // "FWPM_CONDITION_IP_REMOTE_PORT"
	ShortName string // "IP_REMOTE_PORT"

	// Types are the condition value types a filter may use; empty when the
	// sources do not document them.
	Types []wfp.DataType
	// Matches gives the valid match types per value type (rule B5), in Types order.
	Matches []TypeMatches

	AliasOf *Condition // the condition whose GUID this one shares (#define alias)
	Notes   string
	Source  string
}

// TypeMatches lists the match types valid for one condition value type.
type TypeMatches struct {
	Type    wfp.DataType
	Matches []wfp.MatchType
}

// String returns the C name.
func (c *Condition) String() string { return c.Name }

// Canonical returns the condition an alias stands for, or c itself.
func (c *Condition) Canonical() *Condition {
	if c.AliasOf != nil {
		return c.AliasOf
	}
	return c
}

// TypesKnown reports whether the sources document the condition's value types.
func (c *Condition) TypesKnown() bool { return len(c.Types) > 0 }

// AcceptsType reports whether t is a documented condition value type.
func (c *Condition) AcceptsType(t wfp.DataType) bool { return slices.Contains(c.Types, t) }

// MatchTypes returns the valid match types for value type t, nil if t is not
// accepted.
func (c *Condition) MatchTypes(t wfp.DataType) []wfp.MatchType {
	for _, tm := range c.Matches {
		if tm.Type == t {
			return tm.Matches
		}
	}
	return nil
}

// AcceptsMatch reports whether match type m is valid for value type t.
func (c *Condition) AcceptsMatch(t wfp.DataType, m wfp.MatchType) bool {
	return slices.Contains(c.MatchTypes(t), m)
}

// Sublayer is a built-in FWPM_SUBLAYER_*.
type Sublayer struct {
	Key         wfp.SublayerKey
	Name        string // "FWPM_SUBLAYER_UNIVERSAL"
	ShortName   string // "UNIVERSAL"
	Weight      uint16 // meaningful only when WeightKnown
	WeightKnown bool   // no built-in weight is documented
	WeightNote  string
	Purpose     string
	Source      string
}

func (s *Sublayer) String() string { return s.Name }

// Provider is a built-in FWPM_PROVIDER_*.
type Provider struct {
	Key       wfp.ProviderKey
	Name      string
	ShortName string
	Source    string
}

func (p *Provider) String() string { return p.Name }

// Callout is a built-in FWPM_CALLOUT_*. Only the key is documented; the layer
// a built-in callout applies at is not carried.
type Callout struct {
	Key       wfp.CalloutKey
	Name      string
	ShortName string
	Source    string
}

func (c *Callout) String() string { return c.Name }

// ProviderContext is a built-in FWPM_PROVIDER_CONTEXT_*.
type ProviderContext struct {
	Key       wfp.GUID
	Name      string
	ShortName string
	Source    string
}

func (p *ProviderContext) String() string { return p.Name }

// KeyingModule is a built-in FWPM_KEYING_MODULE_*.
type KeyingModule struct {
	Key       wfp.GUID
	Name      string
	ShortName string
	Source    string
}

func (k *KeyingModule) String() string { return k.Name }

// Constant is a named numeric constant from constants.tsv.
type Constant struct {
	Group string // "FWP_CONDITION_FLAG"
	Name  string // "FWP_CONDITION_FLAG_IS_LOOPBACK"
	Value uint64
	Note  string
}

// key helpers for the generated tables: the literals are checked by the generator.
func lk(s string) wfp.LayerKey    { return wfp.LayerKey(wfp.MustParseGUID(s)) }
func fk(s string) wfp.FieldKey    { return wfp.FieldKey(wfp.MustParseGUID(s)) }
func sk(s string) wfp.SublayerKey { return wfp.SublayerKey(wfp.MustParseGUID(s)) }
func pk(s string) wfp.ProviderKey { return wfp.ProviderKey(wfp.MustParseGUID(s)) }
func ck(s string) wfp.CalloutKey  { return wfp.CalloutKey(wfp.MustParseGUID(s)) }
func gk(s string) wfp.GUID        { return wfp.MustParseGUID(s) }
