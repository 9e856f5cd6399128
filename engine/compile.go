package engine

import (
	"cmp"
	"maps"
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
	// nextFilterID is the id the next filter added will get: every filter of the
	// snapshot has a smaller one (rule D11, mid-stream inspection).
	nextFilterID wfp.FilterID
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
	protocol, localAddr, remoteAddr, localPort, remotePort, appID, userID, direction, flags int
}

type compiledSublayer struct {
	key    wfp.SublayerKey
	name   string
	weight uint16
	// filters are in evaluation order (compareFilters) and index is built over them.
	filters []*cfilter
	index   filterIndex
	// extra and deleted are the filters added and removed by commits since the index
	// was built: extra in evaluation order, deleted by id. Classification merges them
	// in (see patchLayer).
	extra   []*cfilter
	deleted map[wfp.FilterID]bool
}

// cfilter is a filter compiled for matching.
type cfilter struct {
	id      wfp.FilterID
	key     wfp.FilterKey
	name    string
	weight  uint64
	action  wfp.ActionType
	callout wfp.CalloutKey
	flags   wfp.FilterFlags
	groups  []condGroup
	kernel  callout.Filter // FWPS_FILTER0 handed to classifyFn
	hits    *atomic.Uint64
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
// that did not change and patching those that only gained or lost filters (see
// patchLayer), so that a commit costs what it changed, not the size of the policy.
func compileAll(st *store, prev *snapshot) *snapshot {
	s := &snapshot{layers: map[wfp.LayerKey]*compiledLayer{}, calloutNames: map[wfp.CalloutKey]string{}, nextFilterID: st.nextFilterID}
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
	rebuild := func(k wfp.LayerKey) {
		fs := make([]*filterObj, 0, len(st.byLayer[k]))
		for _, f := range st.byLayer[k] {
			fs = append(fs, f)
		}
		if len(fs) > 0 {
			s.layers[k] = compileLayer(st, fs[0].layer, fs)
		}
	}
	if prev == nil || st.allDirty {
		for k := range st.byLayer {
			rebuild(k)
		}
		return s
	}
	for k := range st.dirty {
		delete(s.layers, k)
		if prevCL := prev.layers[k]; prevCL != nil && len(st.changes[k]) > 0 {
			if cl, ok := patchLayer(st, prevCL, st.changes[k]); ok {
				if cl != nil {
					s.layers[k] = cl
				}
				continue
			}
		}
		rebuild(k)
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
		cs.filters = append(cs.filters, compileFilter(st, layer, f))
	}
	slices.SortFunc(cl.sublayers, compareCompiledSublayers)
	for _, cs := range cl.sublayers {
		slices.SortFunc(cs.filters, compareFilters)
		cs.index = buildIndex(cs.filters)
	}
	return cl
}

// compareCompiledSublayers is the evaluation order of sublayers. Rule A2: from the highest
// weight; equal weights by key, a wfpsim choice.
func compareCompiledSublayers(a, b *compiledSublayer) int {
	return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.key.String(), b.key.String()))
}

// compareFilters is the evaluation order inside a sublayer. Rule A3: filters from the
// highest weight. Equal weights have no defined order (rule A13); wfpsim breaks ties
// by filter id.
func compareFilters(a, b *cfilter) int {
	return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.id, b.id))
}

// all returns the sublayer's filters in evaluation order: the indexed ones, less the
// deleted, merged with the extra.
func (cs *compiledSublayer) all() []*cfilter {
	if len(cs.extra) == 0 && len(cs.deleted) == 0 {
		return cs.filters
	}
	out := make([]*cfilter, 0, len(cs.filters)+len(cs.extra))
	i, j := 0, 0
	for i < len(cs.filters) || j < len(cs.extra) {
		if j == len(cs.extra) || (i < len(cs.filters) && compareFilters(cs.filters[i], cs.extra[j]) < 0) {
			if !cs.deleted[cs.filters[i].id] {
				out = append(out, cs.filters[i])
			}
			i++
			continue
		}
		out = append(out, cs.extra[j])
		j++
	}
	return out
}

// maxDelta is how many changes a sublayer carries outside its index before it is
// rebuilt: small enough that merging them costs little, large enough that a commit
// of a few filters never rebuilds a big sublayer.
func maxDelta(indexed int) int { return 64 + indexed/16 }

// patchLayer applies a commit's filter additions and deletions to a compiled layer
// without rebuilding it: additions go to the sublayer's extra list, deletions to its
// deleted set, and a sublayer whose changes outgrow maxDelta is rebuilt alone. The
// compiled filters are immutable and shared with the previous snapshot. It returns
// ok=false when the change needs a full rebuild (a sublayer that no longer exists),
// and a nil layer when no filter is left.
func patchLayer(st *store, prev *compiledLayer, changes []filterChange) (*compiledLayer, bool) {
	cl := &compiledLayer{layer: prev.layer, header: prev.header, nfilters: prev.nfilters, sublayers: slices.Clone(prev.sublayers)}
	cloned := map[wfp.SublayerKey]*compiledSublayer{}
	sub := func(key wfp.SublayerKey) *compiledSublayer {
		if cs, ok := cloned[key]; ok {
			return cs
		}
		for i, cs := range cl.sublayers {
			if cs.key == key {
				c := *cs
				c.extra = slices.Clone(cs.extra)
				c.deleted = maps.Clone(cs.deleted)
				if c.deleted == nil {
					c.deleted = map[wfp.FilterID]bool{}
				}
				cl.sublayers[i] = &c
				cloned[key] = &c
				return &c
			}
		}
		// A sublayer new to this layer.
		sl, ok := st.sublayers[key]
		if !ok {
			return nil
		}
		c := &compiledSublayer{key: key, name: sl.s.DisplayData.Name, weight: sl.s.Weight, deleted: map[wfp.FilterID]bool{}}
		i, _ := slices.BinarySearchFunc(cl.sublayers, c, compareCompiledSublayers)
		cl.sublayers = slices.Insert(cl.sublayers, i, c)
		cloned[key] = c
		return c
	}
	for _, ch := range changes {
		cs := sub(ch.f.f.Sublayer)
		if cs == nil {
			return nil, false
		}
		if ch.add {
			cf := compileFilter(st, prev.layer, ch.f)
			i, _ := slices.BinarySearchFunc(cs.extra, cf, compareFilters)
			cs.extra = slices.Insert(cs.extra, i, cf)
			cl.nfilters++
			continue
		}
		cl.nfilters--
		if i := slices.IndexFunc(cs.extra, func(f *cfilter) bool { return f.id == ch.f.f.ID }); i >= 0 {
			cs.extra = slices.Delete(cs.extra, i, i+1)
		} else {
			cs.deleted[ch.f.f.ID] = true
		}
	}
	kept := cl.sublayers[:0]
	for _, cs := range cl.sublayers {
		if _, changed := cloned[cs.key]; changed && len(cs.extra)+len(cs.deleted) > maxDelta(len(cs.filters)) {
			cs.filters = cs.all()
			cs.index = buildIndex(cs.filters)
			cs.extra, cs.deleted = nil, nil
		}
		if len(cs.filters)+len(cs.extra)-len(cs.deleted) > 0 {
			kept = append(kept, cs)
		}
	}
	cl.sublayers = kept
	if len(kept) == 0 {
		return nil, true
	}
	return cl, true
}

func compileFilter(st *store, layer *layers.Layer, f *filterObj) *cfilter {
	cf := &cfilter{
		id: f.f.ID, key: f.f.Key, name: f.f.DisplayData.Name, weight: f.f.EffectiveWeight,
		action: f.f.Action.Type, callout: f.f.Action.Callout, flags: f.f.Flags,
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
		flags: idx(layers.ConditionFlags),
	}
	return h
}
