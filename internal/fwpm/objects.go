package fwpm

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/wfpsim/wfpsim/wfp"
)

func encodeDisplayData(a *Arena, d wfp.DisplayData) (DisplayData0, error) {
	var (
		out DisplayData0
		err error
	)
	if out.Name, err = a.UTF16(d.Name); err != nil {
		return out, fmt.Errorf("display name: %w", err)
	}
	if out.Description, err = a.UTF16(d.Description); err != nil {
		return out, fmt.Errorf("description: %w", err)
	}
	return out, nil
}

func decodeDisplayData(d DisplayData0) wfp.DisplayData {
	return wfp.DisplayData{Name: UTF16ToString(d.Name), Description: UTF16ToString(d.Description)}
}

func guidOrZero(p *GUID) GUID {
	if p == nil {
		return GUID{}
	}
	return *p
}

// EncodeProvider lays p out as an FWPM_PROVIDER0 in the arena.
func EncodeProvider(a *Arena, p *wfp.Provider) (*Provider0, error) {
	out, err := alloc[Provider0](a)
	if err != nil {
		return nil, err
	}
	out.ProviderKey = GUID(p.Key)
	out.Flags = uint32(p.Flags)
	if out.DisplayData, err = encodeDisplayData(a, p.DisplayData); err != nil {
		return nil, fmt.Errorf("fwpm: provider %s: %w", p.Key, err)
	}
	if out.ProviderData, err = a.Blob(p.Data); err != nil {
		return nil, err
	}
	if out.ServiceName, err = a.UTF16(p.ServiceName); err != nil {
		return nil, fmt.Errorf("fwpm: provider %s: service name: %w", p.Key, err)
	}
	return out, nil
}

// DecodeProvider copies an FWPM_PROVIDER0 into the Go heap.
func DecodeProvider(p *Provider0) wfp.Provider {
	return wfp.Provider{
		Key:         wfp.ProviderKey(p.ProviderKey),
		DisplayData: decodeDisplayData(p.DisplayData),
		Flags:       wfp.ProviderFlags(p.Flags),
		ServiceName: UTF16ToString(p.ServiceName),
		Data:        BlobBytes(p.ProviderData),
	}
}

// EncodeSublayer lays s out as an FWPM_SUBLAYER0 in the arena.
func EncodeSublayer(a *Arena, s *wfp.Sublayer) (*Sublayer0, error) {
	out, err := alloc[Sublayer0](a)
	if err != nil {
		return nil, err
	}
	out.SublayerKey = GUID(s.Key)
	out.Flags = uint32(s.Flags)
	out.Weight = s.Weight
	if out.DisplayData, err = encodeDisplayData(a, s.DisplayData); err != nil {
		return nil, fmt.Errorf("fwpm: sublayer %s: %w", s.Key, err)
	}
	if out.ProviderKey, err = a.GUIDPtr(GUID(s.Provider)); err != nil {
		return nil, err
	}
	if out.ProviderData, err = a.Blob(s.Data); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeSublayer copies an FWPM_SUBLAYER0 into the Go heap.
func DecodeSublayer(s *Sublayer0) wfp.Sublayer {
	return wfp.Sublayer{
		Key:         wfp.SublayerKey(s.SublayerKey),
		DisplayData: decodeDisplayData(s.DisplayData),
		Flags:       wfp.SublayerFlags(s.Flags),
		Provider:    wfp.ProviderKey(guidOrZero(s.ProviderKey)),
		Weight:      s.Weight,
		Data:        BlobBytes(s.ProviderData),
	}
}

// EncodeCallout lays c out as an FWPM_CALLOUT0 in the arena (calloutId is output only
// and left zero).
func EncodeCallout(a *Arena, c *wfp.Callout) (*Callout0, error) {
	out, err := alloc[Callout0](a)
	if err != nil {
		return nil, err
	}
	out.CalloutKey = GUID(c.Key)
	out.Flags = uint32(c.Flags)
	out.ApplicableLayer = GUID(c.Layer)
	if out.DisplayData, err = encodeDisplayData(a, c.DisplayData); err != nil {
		return nil, fmt.Errorf("fwpm: callout %s: %w", c.Key, err)
	}
	if out.ProviderKey, err = a.GUIDPtr(GUID(c.Provider)); err != nil {
		return nil, err
	}
	if out.ProviderData, err = a.Blob(c.Data); err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeCallout copies an FWPM_CALLOUT0 into the Go heap.
func DecodeCallout(c *Callout0) wfp.Callout {
	return wfp.Callout{
		Key:         wfp.CalloutKey(c.CalloutKey),
		DisplayData: decodeDisplayData(c.DisplayData),
		Flags:       wfp.CalloutFlags(c.Flags),
		Provider:    wfp.ProviderKey(guidOrZero(c.ProviderKey)),
		Layer:       wfp.LayerKey(c.ApplicableLayer),
		ID:          wfp.CalloutID(c.CalloutID),
		Data:        BlobBytes(c.ProviderData),
	}
}

// encodeConditions lays out an FWPM_FILTER_CONDITION0 array.
func encodeConditions(a *Arena, conds []wfp.Condition) (*FilterCondition0, error) {
	arr, err := allocSlice[FilterCondition0](a, len(conds))
	if err != nil || len(arr) == 0 {
		return nil, err
	}
	for i, c := range conds {
		arr[i].FieldKey = GUID(c.Field)
		arr[i].MatchType = uint32(c.Match)
		if c.Value == nil {
			return nil, fmt.Errorf("fwpm: condition %d on %s has no value: want a value (wfp.Empty for FWP_EMPTY)", i, c.Field)
		}
		if err := EncodeConditionValue(a, &arr[i].ConditionValue, c.Value); err != nil {
			return nil, fmt.Errorf("fwpm: condition %d on %s: %w", i, c.Field, err)
		}
	}
	return &arr[0], nil
}

func decodeConditions(p *FilterCondition0, n uint32) ([]wfp.Condition, error) {
	if n == 0 {
		return nil, nil
	}
	if p == nil {
		return nil, fmt.Errorf("fwpm: %d filter conditions at a NULL address: %w", n, wfp.ErrNullPointer)
	}
	arr := unsafe.Slice(p, n)
	out := make([]wfp.Condition, n)
	for i := range arr {
		v, err := DecodeValue(&arr[i].ConditionValue)
		if err != nil {
			return nil, fmt.Errorf("fwpm: condition %d: %w", i, err)
		}
		out[i] = wfp.Condition{Field: wfp.FieldKey(arr[i].FieldKey), Match: wfp.MatchType(arr[i].MatchType), Value: v}
	}
	return out, nil
}

// EncodeFilter lays f out as an FWPM_FILTER0 in the arena. filterId and
// effectiveWeight are output only and left zero (FWP_EMPTY).
func EncodeFilter(a *Arena, f *wfp.Filter) (*Filter0, error) {
	out, err := alloc[Filter0](a)
	if err != nil {
		return nil, err
	}
	out.FilterKey = GUID(f.Key)
	out.Flags = uint32(f.Flags)
	out.LayerKey = GUID(f.Layer)
	out.SublayerKey = GUID(f.Sublayer)
	if out.DisplayData, err = encodeDisplayData(a, f.DisplayData); err != nil {
		return nil, fmt.Errorf("fwpm: filter %s: %w", f.Key, err)
	}
	if out.ProviderKey, err = a.GUIDPtr(GUID(f.Provider)); err != nil {
		return nil, err
	}
	if !f.Weight.Valid() {
		return nil, fmt.Errorf("fwpm: filter %s: weight %s: want auto, a range 0..15 or an exact weight: %w", f.Key, f.Weight, wfp.ErrInvalidWeight)
	}
	if err := EncodeValue(a, &out.Weight, f.Weight.FWPValue()); err != nil {
		return nil, fmt.Errorf("fwpm: filter %s: weight: %w", f.Key, err)
	}
	if out.FilterCondition, err = encodeConditions(a, f.Conditions); err != nil {
		return nil, fmt.Errorf("fwpm: filter %s: %w", f.Key, err)
	}
	out.NumFilterConditions = uint32(len(f.Conditions))
	out.Action.Type = uint32(f.Action.Type)
	if f.Action.Type.IsCallout() {
		// The union's calloutKey; for block and permit its filterType stays zero.
		out.Action.GUID = GUID(f.Action.Callout)
	}
	// union {UINT64 rawContext; GUID providerContextKey;}: FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT
	// says which member is meant.
	if f.Flags&wfp.FilterFlagHasProviderContext != 0 {
		out.Context = f.ProviderContext
	} else {
		*(*uint64)(unsafe.Pointer(&out.Context)) = f.RawContext
	}
	return out, nil
}

// DecodeFilter copies an FWPM_FILTER0 into the Go heap.
func DecodeFilter(f *Filter0) (wfp.Filter, error) {
	out := wfp.Filter{
		Key:         wfp.FilterKey(f.FilterKey),
		DisplayData: decodeDisplayData(f.DisplayData),
		Flags:       wfp.FilterFlags(f.Flags),
		Provider:    wfp.ProviderKey(guidOrZero(f.ProviderKey)),
		Layer:       wfp.LayerKey(f.LayerKey),
		Sublayer:    wfp.SublayerKey(f.SublayerKey),
		Action:      wfp.Action{Type: wfp.ActionType(f.Action.Type)},
		ID:          wfp.FilterID(f.FilterID),
	}
	wv, err := DecodeValue(&f.Weight)
	if err != nil {
		return out, fmt.Errorf("fwpm: filter %s: weight: %w", out.Key, err)
	}
	if out.Weight, err = wfp.WeightFromValue(wv); err != nil {
		return out, fmt.Errorf("fwpm: filter %s: %w", out.Key, err)
	}
	if out.Conditions, err = decodeConditions(f.FilterCondition, f.NumFilterConditions); err != nil {
		return out, fmt.Errorf("fwpm: filter %s: %w", out.Key, err)
	}
	if out.Action.Type.IsCallout() {
		out.Action.Callout = wfp.CalloutKey(f.Action.GUID)
	}
	if out.Flags&wfp.FilterFlagHasProviderContext != 0 {
		out.ProviderContext = f.Context
	} else {
		out.RawContext = *(*uint64)(unsafe.Pointer(&f.Context))
	}
	// The BFE sets effectiveWeight to FWP_UINT64; anything else (an encoded filter that
	// never went through the BFE) leaves it zero.
	if ew, err := DecodeValue(&f.EffectiveWeight); err == nil {
		if u, ok := ew.(wfp.Uint64); ok {
			out.EffectiveWeight = uint64(u)
		}
	}
	return out, nil
}

// EncodeSession lays the options out as an FWPM_SESSION0 in the arena.
func EncodeSession(a *Arena, o *wfp.SessionOptions) (*Session0, error) {
	out, err := alloc[Session0](a)
	if err != nil {
		return nil, err
	}
	if out.DisplayData, err = encodeDisplayData(a, wfp.DisplayData{Name: o.Name, Description: o.Description}); err != nil {
		return nil, fmt.Errorf("fwpm: session: %w", err)
	}
	if o.Dynamic {
		out.Flags |= SessionFlagDynamic
	}
	if o.TxnWaitTimeout < 0 {
		return nil, fmt.Errorf("fwpm: session: transaction wait timeout %s: want zero (the BFE default) or a positive duration", o.TxnWaitTimeout)
	}
	ms := o.TxnWaitTimeout / time.Millisecond
	if ms > 0xFFFFFFFE {
		ms = 0xFFFFFFFF // INFINITE
	}
	out.TxnWaitTimeoutInMSec = uint32(ms)
	return out, nil
}

// EncodeFilterEnumTemplate lays t out as an FWPM_FILTER_ENUM_TEMPLATE0 in the arena.
// The BFE requires a layer in a template; a template without one is an error here,
// and callers enumerate with no template (NULL) and select on their side instead.
// t.Sublayer is a wfpsim extension with no place in the C struct: it is ignored.
func EncodeFilterEnumTemplate(a *Arena, t *wfp.FilterEnumTemplate) (*FilterEnumTemplate0, error) {
	if t.Layer.IsZero() {
		return nil, fmt.Errorf("fwpm: a filter enumeration template without a layer: want a layer key (FWPM_FILTER_ENUM_TEMPLATE0.layerKey is required): %w", wfp.ErrInvalidEnumerator)
	}
	out, err := alloc[FilterEnumTemplate0](a)
	if err != nil {
		return nil, err
	}
	out.LayerKey = GUID(t.Layer)
	out.EnumType = uint32(t.EnumType)
	out.Flags = uint32(t.Flags)
	out.ActionMask = t.ActionMask
	if out.ActionMask == 0 {
		out.ActionMask = 0xFFFFFFFF
	}
	if t.Provider != nil {
		if out.ProviderKey, err = newGUID(a, GUID(*t.Provider)); err != nil {
			return nil, err
		}
	}
	if t.Callout != nil {
		if out.CalloutKey, err = newGUID(a, GUID(*t.Callout)); err != nil {
			return nil, err
		}
	}
	if out.FilterCondition, err = encodeConditions(a, t.Conditions); err != nil {
		return nil, fmt.Errorf("fwpm: enumeration template: %w", err)
	}
	out.NumFilterConditions = uint32(len(t.Conditions))
	return out, nil
}

// newGUID copies g into the arena even when it is zero (a template naming the zero
// key means that key).
func newGUID(a *Arena, g GUID) (*GUID, error) {
	p, err := alloc[GUID](a)
	if err != nil {
		return nil, err
	}
	*p = g
	return p, nil
}

// fileTimeEpoch is 1601-01-01 UTC, the origin of FILETIME.
var fileTimeEpoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// Time converts a FILETIME (100 ns ticks since 1601) to a time.Time in UTC.
func (ft FileTime) Time() time.Time {
	ticks := int64(uint64(ft.High)<<32 | uint64(ft.Low))
	// Split to stay inside time.Duration's ±292 years.
	days := ticks / (864e9)
	rest := ticks % (864e9)
	return fileTimeEpoch.AddDate(0, 0, int(days)).Add(time.Duration(rest) * 100).UTC()
}
