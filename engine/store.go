package engine

import (
	"sync/atomic"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// lifetime is how long an object lives (rule E3).
type lifetime uint8

const (
	lifeDynamic lifetime = iota + 1
	lifeStatic
	lifePersistent
	lifeBuiltin
)

func (l lifetime) String() string {
	switch l {
	case lifeDynamic:
		return "dynamic"
	case lifeStatic:
		return "static"
	case lifePersistent:
		return "persistent"
	case lifeBuiltin:
		return "built-in"
	}
	return "unknown"
}

// meta is what the store knows about any object besides its spec.
type meta struct {
	life  lifetime
	owner uint64 // session id for dynamic objects
	seq   uint64 // insertion order
}

type providerObj struct {
	p wfp.Provider
	meta
}

type sublayerObj struct {
	s wfp.Sublayer
	meta
}

type calloutObj struct {
	c     wfp.Callout
	layer *layers.Layer
	meta
}

type filterObj struct {
	f     wfp.Filter
	layer *layers.Layer
	// kernelContext is FWPS_FILTER0.context as the callout's notifyFn set it.
	kernelContext uint64
	// hits counts the classifications in which the filter's conditions matched; it
	// survives recompiles.
	hits *atomic.Uint64
	meta
}

// store is the BFE's object store. It is changed only by the session holding the
// transaction lock, which records an undo step for every change.
type store struct {
	providers    map[wfp.ProviderKey]*providerObj
	sublayers    map[wfp.SublayerKey]*sublayerObj
	callouts     map[wfp.CalloutKey]*calloutObj
	calloutsByID map[wfp.CalloutID]*calloutObj
	filters      map[wfp.FilterKey]*filterObj
	filtersByID  map[wfp.FilterID]*filterObj
	// byLayer holds each layer's filters, so a layer compiles without a scan of all.
	byLayer map[wfp.LayerKey]map[wfp.FilterID]*filterObj
	// changes lists, per layer, the filters added and removed since the last publish,
	// in order, for incremental compiles.
	changes map[wfp.LayerKey][]filterChange

	nextFilterID  wfp.FilterID
	nextCalloutID wfp.CalloutID
	seq           uint64

	// dirty holds the layers whose compiled classifier is stale; allDirty marks every
	// layer (a sublayer changed).
	dirty    map[wfp.LayerKey]bool
	allDirty bool
}

func newStore() *store {
	st := &store{
		providers:     map[wfp.ProviderKey]*providerObj{},
		sublayers:     map[wfp.SublayerKey]*sublayerObj{},
		callouts:      map[wfp.CalloutKey]*calloutObj{},
		calloutsByID:  map[wfp.CalloutID]*calloutObj{},
		filters:       map[wfp.FilterKey]*filterObj{},
		filtersByID:   map[wfp.FilterID]*filterObj{},
		byLayer:       map[wfp.LayerKey]map[wfp.FilterID]*filterObj{},
		changes:       map[wfp.LayerKey][]filterChange{},
		nextFilterID:  1,
		nextCalloutID: 1,
		dirty:         map[wfp.LayerKey]bool{},
	}
	for _, p := range layers.Providers() {
		st.providers[p.Key] = &providerObj{
			p:    wfp.Provider{Key: p.Key, DisplayData: wfp.DisplayData{Name: p.Name}},
			meta: meta{life: lifeBuiltin},
		}
	}
	for _, s := range layers.Sublayers() {
		if _, dup := st.sublayers[s.Key]; dup {
			continue // EDGE_TRAVERSAL is an alias of TEREDO's key; the first name stands
		}
		st.sublayers[s.Key] = &sublayerObj{
			s:    wfp.Sublayer{Key: s.Key, DisplayData: wfp.DisplayData{Name: s.Name}, Weight: builtinSublayerWeight(s)},
			meta: meta{life: lifeBuiltin},
		}
	}
	return st
}

// filterChange is one filter added (add) or removed at a layer.
type filterChange struct {
	add bool
	f   *filterObj
}

// putFilter and dropFilter are the only places filters enter and leave the store.
func (st *store) putFilter(f *filterObj) {
	k := f.f.Layer
	st.filters[f.f.Key] = f
	st.filtersByID[f.f.ID] = f
	if st.byLayer[k] == nil {
		st.byLayer[k] = map[wfp.FilterID]*filterObj{}
	}
	st.byLayer[k][f.f.ID] = f
	st.dirty[k] = true
	st.changes[k] = append(st.changes[k], filterChange{add: true, f: f})
}

func (st *store) dropFilter(f *filterObj) {
	k := f.f.Layer
	delete(st.filters, f.f.Key)
	delete(st.filtersByID, f.f.ID)
	delete(st.byLayer[k], f.f.ID)
	if len(st.byLayer[k]) == 0 {
		delete(st.byLayer, k)
	}
	st.dirty[k] = true
	st.changes[k] = append(st.changes[k], filterChange{f: f})
}

// published forgets the dirty marks and the change log: the snapshot has them.
func (st *store) published() {
	st.dirty = map[wfp.LayerKey]bool{}
	st.changes = map[wfp.LayerKey][]filterChange{}
	st.allDirty = false
}

// undoLog records how to revert each change of a transaction, newest last.
type undoLog []func()

func (u *undoLog) push(f func()) { *u = append(*u, f) }

// rollback reverts every change, newest first.
func (u *undoLog) rollback() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
	*u = nil
}
