package bfe

import (
	"testing"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

func TestSortFilters(t *testing.T) {
	all := layers.Layers()
	l0, l1 := all[0].Key, all[1].Key
	sHigh, sLow := wfp.SublayerKey{Data1: 1}, wfp.SublayerKey{Data1: 2}
	fs := []wfp.Filter{
		{ID: 1, Layer: l1, Sublayer: sHigh, EffectiveWeight: 9},
		{ID: 2, Layer: l0, Sublayer: sLow, EffectiveWeight: 9},
		{ID: 3, Layer: l0, Sublayer: sHigh, EffectiveWeight: 1},
		{ID: 4, Layer: l0, Sublayer: sHigh, EffectiveWeight: 5},
		{ID: 5, Layer: wfp.LayerKey{Data1: 0xFFFF}},
	}
	sortFilters(fs, map[wfp.SublayerKey]uint16{sHigh: 0x8000, sLow: 1})
	var got []wfp.FilterID
	for _, f := range fs {
		got = append(got, f.ID)
	}
	want := []wfp.FilterID{4, 3, 2, 1, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

func TestSelectFilter(t *testing.T) {
	p := wfp.ProviderKey{Data1: 7}
	c := wfp.CalloutKey{Data1: 8}
	s := wfp.SublayerKey{Data1: 9}
	f := wfp.Filter{Provider: p, Sublayer: s, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: c}}
	other := wfp.ProviderKey{Data1: 1}
	otherS := wfp.SublayerKey{Data1: 1}
	cases := []struct {
		t    *wfp.FilterEnumTemplate
		sent bool
		want bool
	}{
		{nil, false, true},
		{&wfp.FilterEnumTemplate{Provider: &p, Callout: &c, Sublayer: &s}, false, true},
		{&wfp.FilterEnumTemplate{Provider: &other}, false, false},
		{&wfp.FilterEnumTemplate{Provider: &other}, true, true},
		{&wfp.FilterEnumTemplate{Sublayer: &otherS}, true, false},
		{&wfp.FilterEnumTemplate{ActionMask: uint32(wfp.ActionBlock)}, false, false},
		{&wfp.FilterEnumTemplate{ActionMask: 0x4000}, false, true},
	}
	for i, tc := range cases {
		if got := selectFilter(&f, tc.t, tc.sent); got != tc.want {
			t.Errorf("case %d: selectFilter = %v, want %v", i, got, tc.want)
		}
	}
}
