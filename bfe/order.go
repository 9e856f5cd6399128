package bfe

import (
	"cmp"
	"slices"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// sortFilters puts filters in the order wfp.Engine.Filters promises: layer order (the
// catalogue's, layers.Layers; layers it does not know go last, by key), then sublayer
// weight and then effective weight, highest first. The BFE itself only sorts by
// weight within one layer, and only with FWP_FILTER_ENUM_FLAG_SORTED. weights gives
// each sublayer's weight as the session sees it; a sublayer missing from it weighs 0.
func sortFilters(fs []wfp.Filter, weights map[wfp.SublayerKey]uint16) {
	order := make(map[wfp.LayerKey]int)
	for i, l := range layers.Layers() {
		order[l.Key] = i
	}
	rank := func(k wfp.LayerKey) int {
		if i, ok := order[k]; ok {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(fs, func(a, b wfp.Filter) int {
		if c := cmp.Compare(rank(a.Layer), rank(b.Layer)); c != 0 {
			return c
		}
		if a.Layer != b.Layer {
			return cmp.Compare(a.Layer.String(), b.Layer.String())
		}
		if c := cmp.Compare(weights[b.Sublayer], weights[a.Sublayer]); c != 0 {
			return c
		}
		return cmp.Compare(b.EffectiveWeight, a.EffectiveWeight)
	})
}

// selectFilter applies the parts of a template the BFE did not (or could not) apply:
// the wfpsim-only sublayer selection always, and, when the template has no layer and
// was therefore not sent, the provider, callout and action mask.
func selectFilter(f *wfp.Filter, t *wfp.FilterEnumTemplate, sentToBFE bool) bool {
	if t == nil {
		return true
	}
	if t.Sublayer != nil && f.Sublayer != *t.Sublayer {
		return false
	}
	if sentToBFE {
		return true
	}
	if t.Provider != nil && f.Provider != *t.Provider {
		return false
	}
	if t.Callout != nil && (!f.Action.Type.IsCallout() || f.Action.Callout != *t.Callout) {
		return false
	}
	if t.ActionMask != 0 && uint32(f.Action.Type)&t.ActionMask == 0 {
		return false
	}
	return true
}
