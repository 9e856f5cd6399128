package policy

import (
	"fmt"
	"slices"

	"github.com/wfpsim/wfpsim/wfp"
)

// recorder is a tiny in-memory wfp.Engine: it records every call, keeps objects
// in a transaction until commit, and fails the failAt-th add (1-based) when set.
type recorder struct {
	calls  []string
	failAt int
	adds   int

	inTxn     bool
	committed state
	pending   state
	nextID    uint64
}

type state struct {
	providers []wfp.Provider
	sublayers []wfp.Sublayer
	callouts  []wfp.Callout
	filters   []wfp.Filter
}

func (s state) clone() state {
	return state{slices.Clone(s.providers), slices.Clone(s.sublayers), slices.Clone(s.callouts), slices.Clone(s.filters)}
}

var _ wfp.Engine = (*recorder)(nil)

func (r *recorder) cur() *state {
	if r.inTxn {
		return &r.pending
	}
	return &r.committed
}

func (r *recorder) add(what string) error {
	r.calls = append(r.calls, what)
	r.adds++
	if r.failAt > 0 && r.adds == r.failAt {
		return wfp.ErrInvalidParameter
	}
	return nil
}

func (r *recorder) Close() error { r.calls = append(r.calls, "Close"); return nil }
func (r *recorder) BeginTransaction(ro bool) error {
	r.calls = append(r.calls, "Begin")
	if r.inTxn {
		return wfp.ErrTxnInProgress
	}
	r.inTxn, r.pending = true, r.committed.clone()
	return nil
}
func (r *recorder) CommitTransaction() error {
	r.calls = append(r.calls, "Commit")
	if !r.inTxn {
		return wfp.ErrNoTxnInProgress
	}
	r.committed, r.inTxn = r.pending, false
	return nil
}
func (r *recorder) AbortTransaction() error {
	r.calls = append(r.calls, "Abort")
	if !r.inTxn {
		return wfp.ErrNoTxnInProgress
	}
	r.inTxn = false
	return nil
}

func (r *recorder) AddProvider(p wfp.Provider) error {
	if err := r.add("AddProvider " + p.DisplayData.Name); err != nil {
		return err
	}
	r.cur().providers = append(r.cur().providers, p)
	return nil
}
func (r *recorder) DeleteProvider(wfp.ProviderKey) error { return wfp.ErrNotSupported }
func (r *recorder) Provider(k wfp.ProviderKey) (wfp.Provider, error) {
	return wfp.Provider{}, wfp.ErrProviderNotFound
}
func (r *recorder) Providers() ([]wfp.Provider, error) { return slices.Clone(r.cur().providers), nil }

func (r *recorder) AddSublayer(s wfp.Sublayer) error {
	if err := r.add("AddSublayer " + s.DisplayData.Name); err != nil {
		return err
	}
	r.cur().sublayers = append(r.cur().sublayers, s)
	return nil
}
func (r *recorder) DeleteSublayer(wfp.SublayerKey) error { return wfp.ErrNotSupported }
func (r *recorder) Sublayer(wfp.SublayerKey) (wfp.Sublayer, error) {
	return wfp.Sublayer{}, wfp.ErrSublayerNotFound
}
func (r *recorder) Sublayers() ([]wfp.Sublayer, error) { return slices.Clone(r.cur().sublayers), nil }

func (r *recorder) AddCallout(c wfp.Callout) (wfp.CalloutID, error) {
	if err := r.add("AddCallout " + c.DisplayData.Name); err != nil {
		return 0, err
	}
	r.nextID++
	c.ID = wfp.CalloutID(r.nextID)
	r.cur().callouts = append(r.cur().callouts, c)
	return c.ID, nil
}
func (r *recorder) DeleteCallout(wfp.CalloutKey) error    { return wfp.ErrNotSupported }
func (r *recorder) DeleteCalloutByID(wfp.CalloutID) error { return wfp.ErrNotSupported }
func (r *recorder) Callout(wfp.CalloutKey) (wfp.Callout, error) {
	return wfp.Callout{}, wfp.ErrCalloutNotFound
}
func (r *recorder) Callouts() ([]wfp.Callout, error) { return slices.Clone(r.cur().callouts), nil }

func (r *recorder) AddFilter(f wfp.Filter) (wfp.FilterID, error) {
	if err := r.add(fmt.Sprintf("AddFilter %s", f.DisplayData.Name)); err != nil {
		return 0, err
	}
	r.nextID++
	f.ID = wfp.FilterID(r.nextID)
	r.cur().filters = append(r.cur().filters, f)
	return f.ID, nil
}
func (r *recorder) DeleteFilter(wfp.FilterKey) error    { return wfp.ErrNotSupported }
func (r *recorder) DeleteFilterByID(wfp.FilterID) error { return wfp.ErrNotSupported }
func (r *recorder) Filter(wfp.FilterKey) (wfp.Filter, error) {
	return wfp.Filter{}, wfp.ErrFilterNotFound
}
func (r *recorder) FilterByID(wfp.FilterID) (wfp.Filter, error) {
	return wfp.Filter{}, wfp.ErrFilterNotFound
}
func (r *recorder) Filters(*wfp.FilterEnumTemplate) ([]wfp.Filter, error) {
	return slices.Clone(r.cur().filters), nil
}
func (r *recorder) NetEvents() ([]wfp.NetEvent, error) { return nil, nil }
