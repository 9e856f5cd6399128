package wfp

import "fmt"

// The weight constants of rule B1.
const (
	AutoWeightBits = 60                 // FWPM_AUTO_WEIGHT_BITS
	AutoWeightMax  = 0x0FFFFFFFFFFFFFFF // FWPM_AUTO_WEIGHT_MAX
	WeightRangeMax = 0xF                // FWPM_WEIGHT_RANGE_MAX
	// WeightRangeIKEExemptions and WeightRangeIPsec are the ranges the BFE itself uses.
	WeightRangeIKEExemptions = 0xC
	WeightRangeIPsec         = 0x0
)

// WeightKind tells how a filter's weight was given (the type of FWPM_FILTER0.weight).
type WeightKind uint8

const (
	WeightAuto  WeightKind = iota // FWP_EMPTY: the BFE picks the whole weight
	WeightRange                   // FWP_UINT8 0..15: the range goes in the top 4 bits
	WeightExact                   // FWP_UINT64: used exactly as given
)

// Weight is the weight a filter asks for (rule B1). The zero Weight is automatic.
// The engine turns it into the filter's 64-bit effective weight.
type Weight struct {
	Kind WeightKind
	// Value is the range 0..15 for WeightRange and the exact weight for WeightExact.
	// A range above 15 is representable so that validation can reject it with
	// FWP_E_INVALID_WEIGHT, as the BFE does.
	Value uint64
}

// AutoWeight returns the automatic weight (FWP_EMPTY).
func AutoWeight() Weight { return Weight{} }

// RangeWeight returns range-mode weight r (FWP_UINT8): effective = r<<60 | automatic.
func RangeWeight(r uint8) Weight { return Weight{Kind: WeightRange, Value: uint64(r)} }

// ExactWeight returns an exact weight (FWP_UINT64).
func ExactWeight(w uint64) Weight { return Weight{Kind: WeightExact, Value: w} }

// Valid reports whether the BFE accepts the weight (a range of at most 15).
func (w Weight) Valid() bool {
	switch w.Kind {
	case WeightAuto:
		return w.Value == 0
	case WeightRange:
		return w.Value <= WeightRangeMax
	case WeightExact:
		return true
	}
	return false
}

// String returns "auto", "range 3" or "exact 0x...".
func (w Weight) String() string {
	switch w.Kind {
	case WeightAuto:
		return "auto"
	case WeightRange:
		return fmt.Sprintf("range %d", w.Value)
	case WeightExact:
		return fmt.Sprintf("exact 0x%016x", w.Value)
	}
	return fmt.Sprintf("invalid weight kind %d", w.Kind)
}

// FWPValue returns the weight as the FWP_VALUE0 that FWPM_FILTER0.weight holds.
func (w Weight) FWPValue() Value {
	switch w.Kind {
	case WeightRange:
		return Uint8(w.Value)
	case WeightExact:
		return Uint64(w.Value)
	}
	return Empty{}
}

// WeightFromValue is the inverse of FWPValue: FWP_EMPTY, FWP_UINT8 or FWP_UINT64.
// Any other type is FWP_E_INVALID_WEIGHT.
func WeightFromValue(v Value) (Weight, error) {
	switch x := v.(type) {
	case nil, Empty:
		return AutoWeight(), nil
	case Uint8:
		w := RangeWeight(uint8(x))
		if !w.Valid() {
			return Weight{}, fmt.Errorf("wfp: weight range %d is above %d: %w", x, WeightRangeMax, ErrInvalidWeight)
		}
		return w, nil
	case Uint64:
		return ExactWeight(uint64(x)), nil
	}
	return Weight{}, fmt.Errorf("wfp: a weight of type %s: want FWP_EMPTY, FWP_UINT8 or FWP_UINT64: %w", v.Type(), ErrInvalidWeight)
}
