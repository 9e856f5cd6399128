package engine

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Session is one session with a simulated engine; it implements wfp.Engine. A session
// is safe for use by several goroutines, but like a real BFE session it has at most
// one transaction at a time.
type Session struct {
	e       *Engine
	id      uint64
	opts    wfp.SessionOptions
	timeout time.Duration

	mu     sync.Mutex
	closed bool
	txn    *txn
}

type txn struct {
	readOnly bool
	undo     undoLog
}

var _ wfp.Engine = (*Session)(nil)

// Engine returns the engine the session belongs to.
func (s *Session) Engine() *Engine { return s.e }

func (s *Session) acquire() error {
	select {
	case s.e.txnLock <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case s.e.txnLock <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("engine: waited %v for another session's transaction: %w", s.timeout, wfp.ErrTimeout)
	}
}

func (s *Session) release() { <-s.e.txnLock }

// do runs op under the transaction lock: inside the session's explicit transaction, or
// in an implicit one that commits when op succeeds (rule E2). op must either succeed or
// leave the store as it found it (its undo steps are rolled back on failure).
func (s *Session) do(write bool, op func(st *store, u *undoLog) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("engine: session is closed: %w", wfp.ErrSessionAborted)
	}
	if s.txn != nil {
		if write && s.txn.readOnly {
			return fmt.Errorf("engine: write in a read-only transaction: %w", wfp.ErrIncompatibleTxn)
		}
		s.e.mu.Lock()
		defer s.e.mu.Unlock()
		var u undoLog
		if err := op(s.e.st, &u); err != nil {
			u.rollback()
			return err // a failed call does not doom the transaction (rule E2)
		}
		s.txn.undo = append(s.txn.undo, u...)
		return nil
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	var u undoLog
	err := op(s.e.st, &u)
	if err != nil {
		u.rollback()
		write = false
	}
	if len(s.e.pendingCleanup) > 0 {
		s.e.drainCleanupLocked()
		write = true
	}
	if write {
		s.e.publishLocked()
	}
	return err
}

// publishLocked recompiles the layers the store marked dirty and makes the new
// snapshot visible to Classify in one atomic store.
func (e *Engine) publishLocked() {
	e.snap.Store(compileAll(e.st, e.snap.Load()))
	e.st.published()
}

// BeginTransaction implements wfp.Engine.
func (s *Session) BeginTransaction(readOnly bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("engine: session is closed: %w", wfp.ErrSessionAborted)
	}
	if s.txn != nil {
		return fmt.Errorf("engine: a transaction is already open in this session: %w", wfp.ErrTxnInProgress)
	}
	if err := s.acquire(); err != nil {
		return err
	}
	s.txn = &txn{readOnly: readOnly}
	return nil
}

// CommitTransaction implements wfp.Engine: every change of the transaction becomes
// visible to classification at once.
func (s *Session) CommitTransaction() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn == nil {
		return fmt.Errorf("engine: commit without a transaction: %w", wfp.ErrNoTxnInProgress)
	}
	s.e.mu.Lock()
	s.e.drainCleanupLocked()
	s.e.publishLocked()
	s.e.mu.Unlock()
	s.txn = nil
	s.release()
	return nil
}

// AbortTransaction implements wfp.Engine: every change of the transaction is undone.
func (s *Session) AbortTransaction() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn == nil {
		return fmt.Errorf("engine: abort without a transaction: %w", wfp.ErrNoTxnInProgress)
	}
	s.abortLocked()
	return nil
}

func (s *Session) abortLocked() {
	s.e.mu.Lock()
	s.txn.undo.rollback()
	if len(s.e.pendingCleanup) > 0 {
		s.e.drainCleanupLocked()
		s.e.publishLocked()
	} else {
		// The committed snapshot never saw the changes; only the marks are stale.
		s.e.st.published()
	}
	s.e.mu.Unlock()
	s.txn = nil
	s.release()
}

// Close implements wfp.Engine: an open transaction is aborted and, for a dynamic
// session, every object it added is deleted (rule E1). When another session holds the
// transaction lock longer than the wait timeout, the deletion is queued and done as
// soon as that session releases the lock: the objects never outlive the session's end
// by more than the other transaction.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.txn != nil {
		s.abortLocked()
	}
	s.closed = true
	s.mu.Unlock()
	if !s.opts.Dynamic {
		return nil
	}
	if err := s.acquire(); err != nil {
		s.e.mu.Lock()
		s.e.pendingCleanup = append(s.e.pendingCleanup, s.id)
		s.e.mu.Unlock()
		return nil
	}
	s.e.mu.Lock()
	var u undoLog
	s.e.deleteOwnedLocked(s.e.st, s.id, &u)
	s.e.publishLocked()
	s.e.mu.Unlock()
	s.release()
	return nil
}

// drainCleanupLocked deletes the objects of dynamic sessions that closed while the
// lock was held by another session. It runs with e.mu held, before the lock holder
// publishes and releases.
func (e *Engine) drainCleanupLocked() {
	if len(e.pendingCleanup) == 0 {
		return
	}
	var u undoLog
	for _, owner := range e.pendingCleanup {
		e.deleteOwnedLocked(e.st, owner, &u)
	}
	e.pendingCleanup = nil
}

func (e *Engine) deleteOwnedLocked(st *store, owner uint64, u *undoLog) {
	for _, f := range sortedFilters(st) {
		if f.life == lifeDynamic && f.owner == owner {
			e.removeFilter(st, f, u)
		}
	}
	for _, c := range st.callouts {
		if c.life == lifeDynamic && c.owner == owner {
			removeCallout(st, c, u)
		}
	}
	for _, sl := range st.sublayers {
		if sl.life == lifeDynamic && sl.owner == owner {
			removeSublayer(st, sl, u)
		}
	}
	for _, p := range st.providers {
		if p.life == lifeDynamic && p.owner == owner {
			removeProvider(st, p, u)
		}
	}
}

// newMeta gives an object added through this session its lifetime (rule E3).
func (s *Session) newMeta(st *store, persistent bool) meta {
	st.seq++
	m := meta{life: lifeStatic, seq: st.seq}
	switch {
	case persistent:
		m.life = lifePersistent
	case s.opts.Dynamic:
		m.life = lifeDynamic
		m.owner = s.id
	}
	return m
}

// checkRef applies rule E4: an object may not reference one with a shorter lifetime.
func checkRef(from meta, fromProvider wfp.ProviderKey, to meta, toProvider wfp.ProviderKey, what string) error {
	bad := false
	switch {
	case to.life == lifeBuiltin:
	case from.life == lifeDynamic:
		bad = to.life == lifeDynamic && to.owner != from.owner
	case from.life == lifeStatic:
		bad = to.life == lifeDynamic
	case from.life == lifePersistent:
		bad = to.life != lifePersistent || (!toProvider.IsZero() && toProvider != fromProvider)
	}
	if bad {
		return fmt.Errorf("engine: a %s object may not reference the %s %s: %w", from.life, to.life, what, wfp.ErrLifetimeMismatch)
	}
	return nil
}

func (s *Session) providerRef(st *store, m meta, from, key wfp.ProviderKey) error {
	if key.IsZero() {
		return nil
	}
	p, ok := st.providers[key]
	if !ok {
		return fmt.Errorf("engine: provider %s: %w", key, wfp.ErrProviderNotFound)
	}
	return checkRef(m, from, p.meta, wfp.ProviderKey{}, "provider "+p.p.DisplayData.Name)
}

func assignKey(st *store, kind string) wfp.GUID {
	return wfp.GUIDFromName("wfpsim-assigned-"+kind, fmt.Sprint(st.seq))
}

// AddProvider implements wfp.Engine.
func (s *Session) AddProvider(p wfp.Provider) error {
	return s.do(true, func(st *store, u *undoLog) error {
		if p.DisplayData.Name == "" {
			return fmt.Errorf("engine: add provider: %w", wfp.ErrNullDisplayName)
		}
		if p.Flags&^wfp.ProviderFlagPersistent != 0 {
			return fmt.Errorf("engine: add provider %q: flags %s: %w", p.DisplayData.Name, p.Flags, wfp.ErrInvalidFlags)
		}
		m := s.newMeta(st, p.Flags&wfp.ProviderFlagPersistent != 0)
		if p.Key.IsZero() {
			p.Key = wfp.ProviderKey(assignKey(st, "provider"))
		}
		if _, ok := st.providers[p.Key]; ok {
			return fmt.Errorf("engine: add provider %q: key %s: %w", p.DisplayData.Name, p.Key, wfp.ErrAlreadyExists)
		}
		p.Data = slices.Clone(p.Data)
		st.providers[p.Key] = &providerObj{p: p, meta: m}
		u.push(func() { delete(st.providers, p.Key) })
		return nil
	})
}

func removeProvider(st *store, p *providerObj, u *undoLog) {
	delete(st.providers, p.p.Key)
	u.push(func() { st.providers[p.p.Key] = p })
}

// DeleteProvider implements wfp.Engine.
func (s *Session) DeleteProvider(key wfp.ProviderKey) error {
	return s.do(true, func(st *store, u *undoLog) error {
		p, ok := st.providers[key]
		if !ok {
			return fmt.Errorf("engine: delete provider %s: %w", key, wfp.ErrProviderNotFound)
		}
		if p.life == lifeBuiltin {
			return fmt.Errorf("engine: delete provider %s: %w", p.p.DisplayData.Name, wfp.ErrBuiltinObject)
		}
		for _, sl := range st.sublayers {
			if sl.s.Provider == key {
				return fmt.Errorf("engine: delete provider %q: sublayer %q uses it: %w", p.p.DisplayData.Name, sl.s.DisplayData.Name, wfp.ErrInUse)
			}
		}
		for _, c := range st.callouts {
			if c.c.Provider == key {
				return fmt.Errorf("engine: delete provider %q: callout %q uses it: %w", p.p.DisplayData.Name, c.c.DisplayData.Name, wfp.ErrInUse)
			}
		}
		for _, f := range st.filters {
			if f.f.Provider == key {
				return fmt.Errorf("engine: delete provider %q: filter %q uses it: %w", p.p.DisplayData.Name, f.f.DisplayData.Name, wfp.ErrInUse)
			}
		}
		removeProvider(st, p, u)
		return nil
	})
}

// Provider implements wfp.Engine.
func (s *Session) Provider(key wfp.ProviderKey) (wfp.Provider, error) {
	var out wfp.Provider
	err := s.do(false, func(st *store, _ *undoLog) error {
		p, ok := st.providers[key]
		if !ok {
			return fmt.Errorf("engine: provider %s: %w", key, wfp.ErrProviderNotFound)
		}
		out = p.p
		out.Data = slices.Clone(p.p.Data)
		return nil
	})
	return out, err
}

// Providers implements wfp.Engine: built-in providers first, then in order of addition.
func (s *Session) Providers() ([]wfp.Provider, error) {
	var out []wfp.Provider
	err := s.do(false, func(st *store, _ *undoLog) error {
		objs := make([]*providerObj, 0, len(st.providers))
		for _, p := range st.providers {
			objs = append(objs, p)
		}
		slices.SortFunc(objs, func(a, b *providerObj) int {
			return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(a.p.Key.String(), b.p.Key.String()))
		})
		for _, p := range objs {
			out = append(out, p.p)
		}
		return nil
	})
	return out, err
}

// AddSublayer implements wfp.Engine.
func (s *Session) AddSublayer(sl wfp.Sublayer) error {
	return s.do(true, func(st *store, u *undoLog) error {
		if sl.DisplayData.Name == "" {
			return fmt.Errorf("engine: add sublayer: %w", wfp.ErrNullDisplayName)
		}
		if sl.Flags&^wfp.SublayerFlagPersistent != 0 {
			return fmt.Errorf("engine: add sublayer %q: flags %s: %w", sl.DisplayData.Name, sl.Flags, wfp.ErrInvalidFlags)
		}
		m := s.newMeta(st, sl.Flags&wfp.SublayerFlagPersistent != 0)
		if sl.Key.IsZero() {
			sl.Key = wfp.SublayerKey(assignKey(st, "sublayer"))
		}
		if _, ok := st.sublayers[sl.Key]; ok {
			return fmt.Errorf("engine: add sublayer %q: key %s: %w", sl.DisplayData.Name, sl.Key, wfp.ErrAlreadyExists)
		}
		if err := s.providerRef(st, m, sl.Provider, sl.Provider); err != nil {
			return fmt.Errorf("engine: add sublayer %q: %w", sl.DisplayData.Name, err)
		}
		sl.Data = slices.Clone(sl.Data)
		st.sublayers[sl.Key] = &sublayerObj{s: sl, meta: m}
		st.allDirty = true
		u.push(func() { delete(st.sublayers, sl.Key) })
		return nil
	})
}

func removeSublayer(st *store, sl *sublayerObj, u *undoLog) {
	delete(st.sublayers, sl.s.Key)
	st.allDirty = true
	u.push(func() { st.sublayers[sl.s.Key] = sl })
}

// DeleteSublayer implements wfp.Engine. A sublayer that still holds filters is in use.
func (s *Session) DeleteSublayer(key wfp.SublayerKey) error {
	return s.do(true, func(st *store, u *undoLog) error {
		sl, ok := st.sublayers[key]
		if !ok {
			return fmt.Errorf("engine: delete sublayer %s: %w", key, wfp.ErrSublayerNotFound)
		}
		if sl.life == lifeBuiltin {
			return fmt.Errorf("engine: delete sublayer %s: %w", sl.s.DisplayData.Name, wfp.ErrBuiltinObject)
		}
		for _, f := range st.filters {
			if f.f.Sublayer == key {
				return fmt.Errorf("engine: delete sublayer %q: filter %q is in it: %w", sl.s.DisplayData.Name, f.f.DisplayData.Name, wfp.ErrInUse)
			}
		}
		removeSublayer(st, sl, u)
		return nil
	})
}

// Sublayer implements wfp.Engine.
func (s *Session) Sublayer(key wfp.SublayerKey) (wfp.Sublayer, error) {
	var out wfp.Sublayer
	err := s.do(false, func(st *store, _ *undoLog) error {
		sl, ok := st.sublayers[key]
		if !ok {
			return fmt.Errorf("engine: sublayer %s: %w", key, wfp.ErrSublayerNotFound)
		}
		out = sl.s
		out.Data = slices.Clone(sl.s.Data)
		return nil
	})
	return out, err
}

// Sublayers implements wfp.Engine: by weight, highest first (the order they are
// evaluated in), then by key.
func (s *Session) Sublayers() ([]wfp.Sublayer, error) {
	var out []wfp.Sublayer
	err := s.do(false, func(st *store, _ *undoLog) error {
		for _, sl := range st.sublayers {
			out = append(out, sl.s)
		}
		slices.SortFunc(out, compareSublayers)
		return nil
	})
	return out, err
}

func compareSublayers(a, b wfp.Sublayer) int {
	return cmp.Or(cmp.Compare(b.Weight, a.Weight), cmp.Compare(a.Key.String(), b.Key.String()))
}

// AddCallout implements wfp.Engine.
func (s *Session) AddCallout(c wfp.Callout) (wfp.CalloutID, error) {
	var id wfp.CalloutID
	err := s.do(true, func(st *store, u *undoLog) error {
		if c.DisplayData.Name == "" {
			return fmt.Errorf("engine: add callout: %w", wfp.ErrNullDisplayName)
		}
		if c.Flags&^(wfp.CalloutFlagPersistent|wfp.CalloutFlagUsesProviderContext) != 0 {
			return fmt.Errorf("engine: add callout %q: flags %s: %w", c.DisplayData.Name, c.Flags, wfp.ErrInvalidFlags)
		}
		layer, ok := layers.LayerByKey(c.Layer)
		if !ok {
			return fmt.Errorf("engine: add callout %q: layer %s: %w", c.DisplayData.Name, c.Layer, wfp.ErrLayerNotFound)
		}
		m := s.newMeta(st, c.Flags&wfp.CalloutFlagPersistent != 0)
		if c.Key.IsZero() {
			c.Key = wfp.CalloutKey(assignKey(st, "callout"))
		}
		if _, ok := st.callouts[c.Key]; ok {
			return fmt.Errorf("engine: add callout %q: key %s: %w", c.DisplayData.Name, c.Key, wfp.ErrAlreadyExists)
		}
		if err := s.providerRef(st, m, c.Provider, c.Provider); err != nil {
			return fmt.Errorf("engine: add callout %q: %w", c.DisplayData.Name, err)
		}
		c.ID = st.nextCalloutID
		st.nextCalloutID++
		c.Data = slices.Clone(c.Data)
		obj := &calloutObj{c: c, layer: layer, meta: m}
		st.callouts[c.Key] = obj
		st.calloutsByID[c.ID] = obj
		st.dirty[c.Layer] = true
		u.push(func() { delete(st.callouts, c.Key); delete(st.calloutsByID, c.ID) })
		id = c.ID
		return nil
	})
	return id, err
}

func removeCallout(st *store, c *calloutObj, u *undoLog) {
	delete(st.callouts, c.c.Key)
	delete(st.calloutsByID, c.c.ID)
	st.dirty[c.c.Layer] = true
	u.push(func() { st.callouts[c.c.Key] = c; st.calloutsByID[c.c.ID] = c })
}

func (s *Session) deleteCallout(st *store, c *calloutObj, u *undoLog) error {
	for _, f := range st.filters {
		if f.f.Action.Type.IsCallout() && f.f.Action.Callout == c.c.Key {
			return fmt.Errorf("engine: delete callout %q: filter %q uses it: %w", c.c.DisplayData.Name, f.f.DisplayData.Name, wfp.ErrInUse)
		}
	}
	removeCallout(st, c, u)
	return nil
}

// DeleteCallout implements wfp.Engine.
func (s *Session) DeleteCallout(key wfp.CalloutKey) error {
	return s.do(true, func(st *store, u *undoLog) error {
		c, ok := st.callouts[key]
		if !ok {
			return fmt.Errorf("engine: delete callout %s: %w", key, wfp.ErrCalloutNotFound)
		}
		return s.deleteCallout(st, c, u)
	})
}

// DeleteCalloutByID implements wfp.Engine.
func (s *Session) DeleteCalloutByID(id wfp.CalloutID) error {
	return s.do(true, func(st *store, u *undoLog) error {
		c, ok := st.calloutsByID[id]
		if !ok {
			return fmt.Errorf("engine: delete callout #%d: %w", id, wfp.ErrCalloutNotFound)
		}
		return s.deleteCallout(st, c, u)
	})
}

// Callout implements wfp.Engine. FWPM_CALLOUT_FLAG_REGISTERED tells whether the
// callout's code is registered on the engine.
func (s *Session) Callout(key wfp.CalloutKey) (wfp.Callout, error) {
	var out wfp.Callout
	err := s.do(false, func(st *store, _ *undoLog) error {
		c, ok := st.callouts[key]
		if !ok {
			return fmt.Errorf("engine: callout %s: %w", key, wfp.ErrCalloutNotFound)
		}
		out = s.e.calloutView(c)
		return nil
	})
	return out, err
}

func (e *Engine) calloutView(c *calloutObj) wfp.Callout {
	out := c.c
	out.Data = slices.Clone(c.c.Data)
	if e.registered(c.c.Key) != nil {
		out.Flags |= wfp.CalloutFlagRegistered
	}
	return out
}

// Callouts implements wfp.Engine, in order of runtime id.
func (s *Session) Callouts() ([]wfp.Callout, error) {
	var out []wfp.Callout
	err := s.do(false, func(st *store, _ *undoLog) error {
		for _, c := range st.callouts {
			out = append(out, s.e.calloutView(c))
		}
		slices.SortFunc(out, func(a, b wfp.Callout) int { return cmp.Compare(a.ID, b.ID) })
		return nil
	})
	return out, err
}

// AddFilter implements wfp.Engine: the filter is validated as the BFE does (see
// validateFilter), given its effective weight (rule B1) and added.
func (s *Session) AddFilter(f wfp.Filter) (wfp.FilterID, error) {
	var id wfp.FilterID
	err := s.do(true, func(st *store, u *undoLog) error {
		m := s.newMeta(st, f.Flags&wfp.FilterFlagPersistent != 0)
		layer, err := s.e.validateFilter(st, &f, m)
		if err != nil {
			return err
		}
		if f.Key.IsZero() {
			f.Key = wfp.FilterKey(assignKey(st, "filter"))
		}
		if _, ok := st.filters[f.Key]; ok {
			return fmt.Errorf("engine: add filter %q: key %s: %w", f.DisplayData.Name, f.Key, wfp.ErrAlreadyExists)
		}
		f.ID = st.nextFilterID
		st.nextFilterID++
		f.EffectiveWeight = effectiveWeight(f.Weight, f.Conditions, m.seq)
		f.Conditions = cloneConditions(f.Conditions)
		obj := &filterObj{f: f, layer: layer, meta: m, hits: new(atomic.Uint64)}
		// notifyFn: a callout whose code is registered hears of the new filter and may
		// refuse it (rule D7).
		if f.Action.Type.IsCallout() {
			if c := s.e.registered(f.Action.Callout); c != nil {
				kf := kernelFilter(obj, st)
				if err := safeNotify(c, callout.NotifyAddFilter, f.Key, &kf); err != nil {
					return fmt.Errorf("engine: add filter %q: notifyFn: %v: %w", f.DisplayData.Name, err, wfp.ErrCalloutNotificationFailed)
				}
				obj.kernelContext = kf.Context
			}
		}
		st.putFilter(obj)
		u.push(func() { st.dropFilter(obj) })
		id = f.ID
		return nil
	})
	return id, err
}

func safeNotify(c callout.Callout, t callout.NotifyType, key wfp.FilterKey, f *callout.Filter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("callout panicked: %v", r)
		}
	}()
	return c.Notify(t, key, f)
}

func cloneConditions(cs []wfp.Condition) []wfp.Condition {
	out := slices.Clone(cs)
	for i, c := range out {
		switch v := c.Value.(type) {
		case wfp.ByteBlob:
			out[i].Value = slices.Clone(v)
		case wfp.SID:
			out[i].Value = slices.Clone(v)
		}
	}
	return out
}

func (e *Engine) removeFilter(st *store, f *filterObj, u *undoLog) {
	st.dropFilter(f)
	if f.f.Action.Type.IsCallout() {
		if c := e.registered(f.f.Action.Callout); c != nil {
			kf := kernelFilter(f, st)
			_ = safeNotify(c, callout.NotifyDeleteFilter, wfp.FilterKey{}, &kf) // filterKey is NULL on delete (rule D7)
		}
	}
	u.push(func() { st.putFilter(f) })
}

// DeleteFilter implements wfp.Engine.
func (s *Session) DeleteFilter(key wfp.FilterKey) error {
	return s.do(true, func(st *store, u *undoLog) error {
		f, ok := st.filters[key]
		if !ok {
			return fmt.Errorf("engine: delete filter %s: %w", key, wfp.ErrFilterNotFound)
		}
		s.e.removeFilter(st, f, u)
		return nil
	})
}

// DeleteFilterByID implements wfp.Engine.
func (s *Session) DeleteFilterByID(id wfp.FilterID) error {
	return s.do(true, func(st *store, u *undoLog) error {
		f, ok := st.filtersByID[id]
		if !ok {
			return fmt.Errorf("engine: delete filter #%d: %w", id, wfp.ErrFilterNotFound)
		}
		s.e.removeFilter(st, f, u)
		return nil
	})
}

// Filter implements wfp.Engine.
func (s *Session) Filter(key wfp.FilterKey) (wfp.Filter, error) {
	var out wfp.Filter
	err := s.do(false, func(st *store, _ *undoLog) error {
		f, ok := st.filters[key]
		if !ok {
			return fmt.Errorf("engine: filter %s: %w", key, wfp.ErrFilterNotFound)
		}
		out = filterView(f)
		return nil
	})
	return out, err
}

// FilterByID implements wfp.Engine.
func (s *Session) FilterByID(id wfp.FilterID) (wfp.Filter, error) {
	var out wfp.Filter
	err := s.do(false, func(st *store, _ *undoLog) error {
		f, ok := st.filtersByID[id]
		if !ok {
			return fmt.Errorf("engine: filter #%d: %w", id, wfp.ErrFilterNotFound)
		}
		out = filterView(f)
		return nil
	})
	return out, err
}

func filterView(f *filterObj) wfp.Filter {
	out := f.f
	out.Conditions = cloneConditions(f.f.Conditions)
	return out
}

// Filters implements wfp.Engine; see matchesTemplate for how a template selects.
func (s *Session) Filters(t *wfp.FilterEnumTemplate) ([]wfp.Filter, error) {
	var out []wfp.Filter
	err := s.do(false, func(st *store, _ *undoLog) error {
		if t != nil && !t.Layer.IsZero() {
			if _, ok := layers.LayerByKey(t.Layer); !ok {
				return fmt.Errorf("engine: enumerate filters: layer %s: %w", t.Layer, wfp.ErrLayerNotFound)
			}
		}
		for _, f := range sortedFilters(st) {
			if t == nil || matchesTemplate(f, t) {
				out = append(out, filterView(f))
			}
		}
		return nil
	})
	return out, err
}

// sortedFilters lists filters in enumeration order: layer (catalogue order), sublayer
// weight, effective weight (both highest first), then filter id.
func sortedFilters(st *store) []*filterObj {
	out := make([]*filterObj, 0, len(st.filters))
	for _, f := range st.filters {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *filterObj) int {
		return cmp.Or(
			cmp.Compare(layerOrder(a.layer), layerOrder(b.layer)),
			cmp.Compare(sublayerWeight(st, b.f.Sublayer), sublayerWeight(st, a.f.Sublayer)),
			cmp.Compare(b.f.EffectiveWeight, a.f.EffectiveWeight),
			cmp.Compare(a.f.ID, b.f.ID))
	})
	return out
}

func sublayerWeight(st *store, key wfp.SublayerKey) uint16 {
	if sl, ok := st.sublayers[key]; ok {
		return sl.s.Weight
	}
	return 0
}

var layerIndex = func() map[*layers.Layer]int {
	m := map[*layers.Layer]int{}
	for i, l := range layers.Layers() {
		m[l] = i
	}
	return m
}()

func layerOrder(l *layers.Layer) int { return layerIndex[l] }

// NetEvents implements wfp.Engine.
func (s *Session) NetEvents() ([]wfp.NetEvent, error) {
	ev, _ := s.e.NetEvents()
	return ev, nil
}

// FilterHits returns, for every filter, how many classifications its conditions
// matched (whether or not it decided), so a replay can list filters that never
// matched.
func (e *Engine) FilterHits() map[wfp.FilterID]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[wfp.FilterID]uint64, len(e.st.filtersByID))
	for id, f := range e.st.filtersByID {
		out[id] = f.hits.Load()
	}
	return out
}
