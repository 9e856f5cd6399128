package engine

import (
	"cmp"
	"slices"
	"sync/atomic"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// snapshot is the committed state as classification sees it: one compiled classifier
// per layer that has filters. It is immutable once published.
type snapshot struct {
	layers map[wfp.LayerKey]*compiledLayer
	// sublayerNames and calloutNames resolve keys for traces.
	calloutNames map[wfp.CalloutKey]string
}

// compiledLayer is the classifier of one layer: its sublayers in evaluation order,
// each with its filters by weight and an index over them.
type compiledLayer struct {
	layer     *layers.Layer
	sublayers []*compiledSublayer
	nfilters  int
	// header are the field indices a net event header is filled from (-1 when absent).
	header headerFields
}

type headerFields struct {
	protocol, localAddr, remoteAddr, localPort, remotePort, appID, userID, direction int
}

type compiledSublayer struct {
	key     wfp.SublayerKey
	name    string
	weight  uint16
	filters []*cfilter // effective weight, highest first, then filter id
	index   filterIndex
}

// cfilter is a filter compiled for matching.
type cfilter struct {
	id       wfp.FilterID
	key      wfp.FilterKey
	name     string
	weight   uint64
	rank     int // position in its sublayer's filters
	action   wfp.ActionType
	callout  wfp.CalloutKey
	flags    wfp.FilterFlags
	groups   []condGroup
	kernel   callout.Filter // FWPS_FILTER0 handed to classifyFn
	sublayer *compiledSublayer
	hits     *atomic.Uint64
}

// condGroup holds the conditions of one field: any of them matching satisfies the
// group, and every group must be satisfied (rule B3). Microsoft documents that
// consecutive conditions on one field are ORed; where they are not consecutive it is
// silent, and wfpsim ORs all conditions on one field wherever they stand.
type condGroup struct {
	field     wfp.FieldKey
	fieldName string
	index     int // incoming value index; -1 when the layer has no such field (it is FWP_EMPTY)
	conds     []ccond
}

type ccond struct {
	c  wfp.Condition
	sd *securityDescriptor // parsed once for security-descriptor conditions
}

func (g *condGroup) matches(values []wfp.Value) bool {
	in := valueAt(values, g.index)
	for i := range g.conds {
		if matchValue(g.conds[i].c.Match, in, g.conds[i].c.Value, g.conds[i].sd) {
			return true
		}
	}
	return false
}

func valueAt(values []wfp.Value, i int) wfp.Value {
	if i < 0 || i >= len(values) || values[i] == nil {
		return wfp.Empty{}
	}
	return values[i]
}

// matches reports whether every condition group matches, and when not, which group
// failed first.
func (f *cfilter) matches(values []wfp.Value) (bool, *condGroup) {
	for i := range f.groups {
		if !f.groups[i].matches(values) {
			return false, &f.groups[i]
		}
	}
	return true, nil
}

// compileAll builds a snapshot from the store, reusing the compiled layers of prev
// that did not change.
func compileAll(st *store, prev *snapshot) *snapshot {
	byLayer := map[wfp.LayerKey][]*filterObj{}
	needed := func(k wfp.LayerKey) bool { return prev == nil || st.allDirty || st.dirty[k] }
	for _, f := range st.filters {
		if needed(f.f.Layer) {
			byLayer[f.f.Layer] = append(byLayer[f.f.Layer], f)
		}
	}
	s := &snapshot{layers: map[wfp.LayerKey]*compiledLayer{}, calloutNames: map[wfp.CalloutKey]string{}}
	for k, c := range st.callouts {
		s.calloutNames[k] = c.c.DisplayData.Name
	}
	if prev != nil && !st.allDirty {
		for k, cl := range prev.layers {
			if !st.dirty[k] {
				s.layers[k] = cl
			}
		}
	}
	for k, fs := range byLayer {
		s.layers[k] = compileLayer(st, fs[0].layer, fs)
	}
	return s
}

func compileLayer(st *store, layer *layers.Layer, fs []*filterObj) *compiledLayer {
	cl := &compiledLayer{layer: layer, nfilters: len(fs), header: headerIndices(layer)}
	subs := map[wfp.SublayerKey]*compiledSublayer{}
	for _, f := range fs {
		cs, ok := subs[f.f.Sublayer]
		if !ok {
			sl := st.sublayers[f.f.Sublayer]
			cs = &compiledSublayer{key: sl.s.Key, name: sl.s.DisplayData.Name, weight: sl.s.Weight}
			subs[f.f.Sublayer] = cs
			cl.sublayers = append(cl.sublayers, cs)
		}
		cs.filters = append(cs.filters, compileFilter(st, layer, f, cs))
	}
	// Rule A2: sublayers from the highest weight; equal weights by key, a wfpsim choice.
	slices.SortFunc(cl.sublayers, func(a, b *compiledSublayer) int {
		return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.key.String(), b.key.String()))
	})
	for _, cs := range cl.sublayers {
		// Rule A3: filters from the highest weight. Equal weights have no defined order
		// (rule A13); wfpsim breaks ties by filter id.
		slices.SortFunc(cs.filters, func(a, b *cfilter) int {
			return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.id, b.id))
		})
		for i, f := range cs.filters {
			f.rank = i
		}
		cs.index = buildIndex(cs.filters)
	}
	return cl
}

func compileFilter(st *store, layer *layers.Layer, f *filterObj, cs *compiledSublayer) *cfilter {
	cf := &cfilter{
		id: f.f.ID, key: f.f.Key, name: f.f.DisplayData.Name, weight: f.f.EffectiveWeight,
		action: f.f.Action.Type, callout: f.f.Action.Callout, flags: f.f.Flags, sublayer: cs,
		kernel: kernelFilter(f, st), hits: f.hits,
	}
	for _, c := range f.f.Conditions {
		var g *condGroup
		for i := range cf.groups {
			if cf.groups[i].field == c.Field {
				g = &cf.groups[i]
			}
		}
		if g == nil {
			cf.groups = append(cf.groups, condGroup{field: c.Field, index: -1})
			g = &cf.groups[len(cf.groups)-1]
			if cond, ok := layers.ConditionByKey(c.Field); ok {
				g.fieldName = cond.ShortName
			}
			if fld, ok := layer.Field(c.Field); ok {
				g.index = fld.Index
			}
		}
		cc := ccond{c: c}
		if sd, ok := c.Value.(wfp.SecurityDescriptor); ok {
			cc.sd, _ = parseSDDL(string(sd))
		}
		g.conds = append(g.conds, cc)
	}
	return cf
}

// kernelFilter builds FWPS_FILTER0, the kernel copy of a filter that classifyFn sees.
func kernelFilter(f *filterObj, st *store) callout.Filter {
	kf := callout.Filter{
		ID: f.f.ID, Weight: f.f.EffectiveWeight, Action: f.f.Action.Type,
		Conditions: f.f.Conditions, Context: f.kernelContext,
	}
	if sl, ok := st.sublayers[f.f.Sublayer]; ok {
		kf.SublayerWeight = sl.s.Weight
	}
	if c, ok := st.callouts[f.f.Action.Callout]; ok && f.f.Action.Type.IsCallout() {
		kf.CalloutID = c.c.ID
	}
	if f.f.Flags&wfp.FilterFlagClearActionRight != 0 {
		kf.Flags |= callout.FilterFlagClearActionRight
	}
	if f.f.Flags&wfp.FilterFlagPermitIfCalloutUnregistered != 0 {
		kf.Flags |= callout.FilterFlagPermitIfCalloutUnregistered
	}
	seen := map[wfp.FieldKey]bool{}
	for _, c := range f.f.Conditions {
		if seen[c.Field] {
			kf.Flags |= callout.FilterFlagORConditions
		}
		seen[c.Field] = true
	}
	return kf
}

func headerIndices(l *layers.Layer) headerFields {
	idx := func(c *layers.Condition) int {
		if f, ok := l.Field(c.Key); ok {
			return f.Index
		}
		return -1
	}
	h := headerFields{
		protocol: idx(layers.ConditionIPProtocol), localAddr: idx(layers.ConditionIPLocalAddress),
		remoteAddr: idx(layers.ConditionIPRemoteAddress), localPort: idx(layers.ConditionIPLocalPort),
		remotePort: idx(layers.ConditionIPRemotePort), appID: idx(layers.ConditionALEAppID),
		userID: idx(layers.ConditionALEUserID), direction: idx(layers.ConditionDirection),
	}
	return h
}
