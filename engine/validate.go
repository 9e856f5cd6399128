package engine

import (
	"fmt"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// filterFlagsAccepted are the FWPM_FILTER_FLAG_* bits a caller may set on add;
// DISABLED is output only (rule E6).
const filterFlagsAccepted = wfp.FilterFlagPersistent | wfp.FilterFlagBoottime | wfp.FilterFlagHasProviderContext |
	wfp.FilterFlagClearActionRight | wfp.FilterFlagPermitIfCalloutUnregistered | wfp.FilterFlagIndexed |
	wfp.FilterFlagHasSecurityRealmProviderContext | wfp.FilterFlagSystemOSOnly | wfp.FilterFlagGameOSOnly |
	wfp.FilterFlagSilentMode | wfp.FilterFlagIPsecNoAcquireInitiate

// validateFilter checks a filter as the BFE does on FwpmFilterAdd0 and returns its
// layer. It fills a zero sublayer with FWPM_SUBLAYER_UNIVERSAL, the default sublayer.
//
// Where Microsoft documents no error code, wfpsim chooses one and says so:
//   - a condition valid at no field of the layer: FWP_E_INCOMPATIBLE_LAYER (rule B10
//     leaves CONDITION_NOT_FOUND or INCOMPATIBLE_LAYER open; CONDITION_NOT_FOUND is kept
//     for a field key that is no condition at all);
//   - a callout action whose callout applies at another layer: FWP_E_INCOMPATIBLE_LAYER;
//   - permit_if_callout_unregistered on a non-callout or inspection filter, boottime
//     with persistent, or an output-only flag: FWP_E_INVALID_FLAGS.
func (e *Engine) validateFilter(st *store, f *wfp.Filter, m meta) (*layers.Layer, error) {
	name := f.DisplayData.Name
	fail := func(format string, args ...any) error {
		return fmt.Errorf("engine: add filter %q: "+format, append([]any{name}, args...)...)
	}
	if name == "" {
		return nil, fmt.Errorf("engine: add filter: %w", wfp.ErrNullDisplayName)
	}
	layer, ok := layers.LayerByKey(f.Layer)
	if !ok {
		return nil, fail("layer %s: %w", f.Layer, wfp.ErrLayerNotFound)
	}
	if f.Sublayer.IsZero() {
		f.Sublayer = layers.SublayerUniversal.Key
	}
	sl, ok := st.sublayers[f.Sublayer]
	if !ok {
		return nil, fail("sublayer %s: %w", f.Sublayer, wfp.ErrSublayerNotFound)
	}
	if err := checkRef(m, f.Provider, sl.meta, sl.s.Provider, "sublayer "+sl.s.DisplayData.Name); err != nil {
		return nil, fail("%w", err)
	}
	if !f.Provider.IsZero() {
		p, ok := st.providers[f.Provider]
		if !ok {
			return nil, fail("provider %s: %w", f.Provider, wfp.ErrProviderNotFound)
		}
		if err := checkRef(m, f.Provider, p.meta, wfp.ProviderKey{}, "provider "+p.p.DisplayData.Name); err != nil {
			return nil, fail("%w", err)
		}
	}
	if !f.Weight.Valid() {
		return nil, fail("weight %s: the range must be 0..%d: %w", f.Weight, wfp.WeightRangeMax, wfp.ErrInvalidWeight)
	}
	if f.Flags&^filterFlagsAccepted != 0 {
		return nil, fail("flags %s: only %s may be set on add: %w", f.Flags&^filterFlagsAccepted, filterFlagsAccepted, wfp.ErrInvalidFlags)
	}
	if f.Flags&wfp.FilterFlagBoottime != 0 && f.Flags&wfp.FilterFlagPersistent != 0 {
		return nil, fail("boottime and persistent cannot be combined (rule E3): %w", wfp.ErrInvalidFlags)
	}
	if f.Flags&wfp.FilterFlagBoottime != 0 && layer.Mode == layers.ModeUser {
		return nil, fail("boottime filters exist only at kernel layers, not %s (rule E3): %w", layer.Name, wfp.ErrIncompatibleLayer)
	}
	if f.Flags&wfp.FilterFlagHasProviderContext != 0 {
		return nil, fail("provider context %s: wfpsim does not model provider contexts: %w", f.ProviderContext, wfp.ErrProviderContextNotFound)
	}
	a := f.Action.Type
	if !a.IsFilterAction() {
		return nil, fail("action %s: want block, permit or a callout action: %w", a, wfp.ErrInvalidActionType)
	}
	if f.Flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0 && a != wfp.ActionCalloutTerminating && a != wfp.ActionCalloutUnknown {
		return nil, fail("permit_if_callout_unregistered needs a callout_terminating or callout_unknown action (rule A9), not %s: %w", a, wfp.ErrInvalidFlags)
	}
	if a.IsCallout() {
		c, ok := st.callouts[f.Action.Callout]
		if !ok {
			return nil, fail("callout %s: %w", f.Action.Callout, wfp.ErrCalloutNotFound)
		}
		if c.c.Layer != f.Layer {
			return nil, fail("callout %q applies at %s, not %s: %w", c.c.DisplayData.Name, c.layer.Name, layer.Name, wfp.ErrIncompatibleLayer)
		}
		if err := checkRef(m, f.Provider, c.meta, c.c.Provider, "callout "+c.c.DisplayData.Name); err != nil {
			return nil, fail("%w", err)
		}
	} else {
		f.Action.Callout = wfp.CalloutKey{}
	}
	for i, c := range f.Conditions {
		if err := validateCondition(layer, c); err != nil {
			return nil, fail("condition %d: %w", i, err)
		}
	}
	return layer, nil
}

// fieldTypes returns the value types a condition may carry at a layer (rule B4): the
// field's own type, the address-mask types for address fields, a security descriptor
// for token fields, and FWP_EMPTY (rule B6). When the catalogue does not know the
// field's type, the condition's documented types are used; when those are unknown too,
// any type is accepted (ok is false).
func fieldTypes(layer *layers.Layer, cond *layers.Condition) (types []wfp.DataType, ok bool) {
	if f, found := layer.Field(cond.Key); found && f.TypeKnown {
		types = []wfp.DataType{f.Type, wfp.TypeEmpty}
		switch f.Type {
		case wfp.TypeUint32:
			if cond.AcceptsType(wfp.TypeV4AddrMask) {
				types = append(types, wfp.TypeV4AddrMask)
			}
		case wfp.TypeByteArray16:
			if cond.AcceptsType(wfp.TypeV6AddrMask) {
				types = append(types, wfp.TypeV6AddrMask)
			}
		case wfp.TypeTokenAccessInformation, wfp.TypeTokenInformation:
			types = append(types, wfp.TypeSecurityDescriptor)
		}
		return types, true
	}
	if cond.TypesKnown() {
		return append(append([]wfp.DataType(nil), cond.Types...), wfp.TypeEmpty), true
	}
	return nil, false
}

func validateCondition(layer *layers.Layer, c wfp.Condition) error {
	cond, ok := layers.ConditionByKey(c.Field)
	if !ok {
		return fmt.Errorf("field %s is no FWPM_CONDITION_*: %w", c.Field, wfp.ErrConditionNotFound)
	}
	if _, isField := layer.Field(c.Field); !isField && !layer.AcceptsCondition(c.Field) {
		return fmt.Errorf("%s is not available at %s: %w", cond.Name, layer.Name, wfp.ErrIncompatibleLayer)
	}
	if c.Value == nil {
		return fmt.Errorf("%s has no value: %w", cond.Name, wfp.ErrNullPointer)
	}
	vt := c.Value.Type()
	if r, isRange := c.Value.(wfp.Range); isRange {
		if c.Match != wfp.MatchRange {
			return fmt.Errorf("%s: a range value needs match type range, not %s: %w", cond.Name, c.Match.ShortName(), wfp.ErrMatchTypeMismatch)
		}
		if r.Low == nil || r.High == nil || r.Low.Type() != r.High.Type() {
			return fmt.Errorf("%s: a range needs two bounds of one type: %w", cond.Name, wfp.ErrInvalidRange)
		}
		if c, ok := compareValue(r.Low, r.High); ok && c > 0 {
			return fmt.Errorf("%s: range %s has its low bound above its high bound: %w", cond.Name, r, wfp.ErrInvalidRange)
		}
		vt = r.Low.Type()
	} else if c.Match == wfp.MatchRange {
		return fmt.Errorf("%s: match type range needs a low-high range value, not %s: %w", cond.Name, vt, wfp.ErrMatchTypeMismatch)
	}
	types, known := fieldTypes(layer, cond)
	if known && !containsType(types, vt) {
		return fmt.Errorf("%s at %s takes %s, not %s (rule B4): %w", cond.Name, layer.ShortName, typeList(types), vt, wfp.ErrTypeMismatch)
	}
	if vt == wfp.TypeEmpty {
		if c.Match != wfp.MatchEqual {
			return fmt.Errorf("%s: an empty value only takes match type equal (rule B6): %w", cond.Name, wfp.ErrMatchTypeMismatch)
		}
		return nil
	}
	if _, isRange := c.Value.(wfp.Range); isRange && (vt == wfp.TypeV4AddrMask || vt == wfp.TypeV6AddrMask) {
		return fmt.Errorf("%s: range bounds must be addresses, not masks: %w", cond.Name, wfp.ErrTypeMismatch)
	}
	if !vt.AcceptsMatch(c.Match) || (cond.MatchTypes(vt) != nil && !cond.AcceptsMatch(vt, c.Match)) {
		return fmt.Errorf("%s: a %s value does not take match type %s (rule B5): %w", cond.Name, vt, c.Match.ShortName(), wfp.ErrMatchTypeMismatch)
	}
	switch v := c.Value.(type) {
	case wfp.V4AddrMask:
		if _, contiguous := maskBits(v.Mask); !contiguous {
			return fmt.Errorf("%s: mask %s is not contiguous: %w", cond.Name, wfp.V4ToAddr(v.Mask), wfp.ErrInvalidNetMask)
		}
	case wfp.V6AddrMask:
		if v.PrefixLength > 128 {
			return fmt.Errorf("%s: prefix length %d is above 128: %w", cond.Name, v.PrefixLength, wfp.ErrInvalidNetMask)
		}
	case wfp.SecurityDescriptor:
		if _, err := parseSDDL(string(v)); err != nil {
			return fmt.Errorf("%s: %w", cond.Name, err)
		}
	case wfp.SID:
		if !v.Valid() {
			return fmt.Errorf("%s: malformed SID: %w", cond.Name, wfp.ErrInvalidParameter)
		}
	}
	return nil
}

func maskBits(m uint32) (int, bool) {
	ones := 0
	for ones < 32 && m&(1<<(31-ones)) != 0 {
		ones++
	}
	return ones, ones == 32 || m<<ones == 0
}

func containsType(ts []wfp.DataType, t wfp.DataType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func typeList(ts []wfp.DataType) string {
	s := ""
	for i, t := range ts {
		if t == wfp.TypeEmpty {
			continue
		}
		if i > 0 && s != "" {
			s += " or "
		}
		s += t.String()
	}
	return s
}

// effectiveWeight turns a requested weight into the filter's 64-bit weight (rule B1).
//
// How the BFE fills the automatic low 60 bits is undocumented (rule B2: "based on the
// filter conditions"). wfpsim's rule: the automatic part is
//
//	(number of distinct condition fields) << 48  |  (2^48 - 1 - insertion sequence)
//
// so, within one weight range, a filter that tests more fields weighs more, and among
// filters testing as many fields the one added first weighs more. It is deterministic
// and fits in 60 bits, so (effective >> 60) is always the requested range, as in every
// real dump.
func effectiveWeight(w wfp.Weight, conds []wfp.Condition, seq uint64) uint64 {
	const seqBits = 48
	fields := map[wfp.FieldKey]bool{}
	for _, c := range conds {
		fields[c.Field] = true
	}
	spec := uint64(min(len(fields), 1<<(60-seqBits)-1))
	auto := spec<<seqBits | (1<<seqBits - 1 - seq&(1<<seqBits-1))
	switch w.Kind {
	case wfp.WeightExact:
		return w.Value
	case wfp.WeightRange:
		return w.Value<<wfp.AutoWeightBits | auto
	}
	return auto
}
