package wfp

import "time"

// DisplayData is FWPM_DISPLAY_DATA0. The BFE requires a name on every object it
// stores (FWP_E_NULL_DISPLAY_NAME).
type DisplayData struct {
	Name        string
	Description string
}

// Provider is FWPM_PROVIDER0: who owns a set of objects. It has no effect on
// classification (rule E6).
type Provider struct {
	Key         ProviderKey
	DisplayData DisplayData
	Flags       ProviderFlags
	ServiceName string
	Data        []byte
}

// Sublayer is FWPM_SUBLAYER0. Sublayers of a layer are evaluated from the highest
// weight to the lowest, and every one of them is evaluated (rule A2).
type Sublayer struct {
	Key         SublayerKey
	DisplayData DisplayData
	Flags       SublayerFlags
	Provider    ProviderKey // zero: none
	Weight      uint16
	Data        []byte
}

// Callout is FWPM_CALLOUT0, the management object of a callout. Its code is
// registered separately (in the simulator, on the engine; on Windows, by a driver);
// filters may name a callout whose code is not registered (rule A9).
type Callout struct {
	Key         CalloutKey
	DisplayData DisplayData
	Flags       CalloutFlags
	Provider    ProviderKey // zero: none
	Layer       LayerKey    // applicableLayer: filters naming this callout must be at this layer
	// ID is the runtime id the engine assigned; ignored on add.
	ID   CalloutID
	Data []byte
}

// Condition is FWPM_FILTER_CONDITION0: one test of an incoming field. Conditions on
// different fields are ANDed, consecutive conditions on the same field ORed (rule B3).
type Condition struct {
	Field FieldKey
	Match MatchType
	Value Value
}

// Filter is FWPM_FILTER0.
type Filter struct {
	Key         FilterKey
	DisplayData DisplayData
	Flags       FilterFlags
	Provider    ProviderKey // zero: none
	Layer       LayerKey
	Sublayer    SublayerKey // zero: FWPM_SUBLAYER_UNIVERSAL, the layer's default
	Weight      Weight
	Conditions  []Condition
	Action      Action
	// ProviderContext is the providerContextKey when FilterFlagHasProviderContext is
	// set; otherwise RawContext is the filter's opaque context.
	ProviderContext GUID
	RawContext      uint64

	// Set by the engine; ignored on add.
	ID              FilterID
	EffectiveWeight uint64
}

// SessionOptions is FWPM_SESSION0, what a session is opened with.
type SessionOptions struct {
	Name        string
	Description string
	// Dynamic: every object added through the session is deleted when it closes
	// (FWPM_SESSION_FLAG_DYNAMIC, rule E1).
	Dynamic bool
	// TxnWaitTimeout is how long a call waits for the transaction lock; zero means the
	// BFE default of 15 s (rule E2).
	TxnWaitTimeout time.Duration
}

// EnumType is FWP_FILTER_ENUM_TYPE: how a template's conditions select filters.
type EnumType uint32

const (
	// EnumFullyContained returns filters whose conditions select only traffic the
	// template's conditions select.
	EnumFullyContained EnumType = 0
	// EnumOverlapping returns filters that could match some traffic the template's
	// conditions select.
	EnumOverlapping EnumType = 1
)

// EnumFlags is FWPM_FILTER_ENUM_TEMPLATE0.flags.
type EnumFlags uint32

const (
	EnumFlagBestTerminatingMatch EnumFlags = 0x1
	EnumFlagSorted               EnumFlags = 0x2
	EnumFlagBoottimeOnly         EnumFlags = 0x4
	EnumFlagIncludeBoottime      EnumFlags = 0x8
	EnumFlagIncludeDisabled      EnumFlags = 0x10
)

// FilterEnumTemplate is FWPM_FILTER_ENUM_TEMPLATE0: which filters an enumeration
// returns. A nil template, or zero fields, select everything.
type FilterEnumTemplate struct {
	Provider   *ProviderKey
	Layer      LayerKey
	EnumType   EnumType
	Flags      EnumFlags
	Conditions []Condition
	// ActionMask selects action types: a filter is returned when its action type has
	// a bit in common with the mask. Zero means all (0xFFFFFFFF on Windows).
	ActionMask uint32
	Callout    *CalloutKey
	// Sublayer is a wfpsim extension (not in FWPM_FILTER_ENUM_TEMPLATE0): only filters
	// in that sublayer.
	Sublayer *SublayerKey
}
