//go:build !windows || !(amd64 || arm64)

package bfe

import (
	"fmt"
	"runtime"

	"github.com/wfpsim/wfpsim/wfp"
)

// Session is a session with the Base Filtering Engine. Off 64-bit Windows there is
// none: every method returns an error wrapping wfp.ErrNotSupported. (The struct
// layouts of internal/fwpm and the UINT64 arguments of FwpmFilterDeleteById0 and
// FwpmFilterGetById0 are those of amd64 and arm64; 32-bit Windows is not supported.)
type Session struct{}

var _ wfp.Engine = (*Session)(nil)

func unsupported(call string) error {
	return fmt.Errorf("bfe: %s needs 64-bit Windows (amd64 or arm64) and administrator rights (the Base Filtering Engine of fwpuclnt.dll), not %s/%s; use package engine to simulate: %w", call, runtime.GOOS, runtime.GOARCH, wfp.ErrNotSupported)
}

// Open would open a session with the BFE (FwpmEngineOpen0); off Windows it returns
// an error wrapping wfp.ErrNotSupported.
func Open(opts wfp.SessionOptions) (*Session, error) { return nil, unsupported("Open") }

// AppIDFromFileName would ask Windows for the app id of a file
// (FwpmGetAppIdFromFileName0); off Windows it returns an error wrapping
// wfp.ErrNotSupported. wfp.AppIDFromFileName computes the same blob from a drive map
// on every OS.
func AppIDFromFileName(path string) (wfp.Value, error) {
	return nil, unsupported("AppIDFromFileName")
}

func (s *Session) Close() error                   { return unsupported("Close") }
func (s *Session) BeginTransaction(bool) error    { return unsupported("BeginTransaction") }
func (s *Session) CommitTransaction() error       { return unsupported("CommitTransaction") }
func (s *Session) AbortTransaction() error        { return unsupported("AbortTransaction") }
func (s *Session) AddProvider(wfp.Provider) error { return unsupported("AddProvider") }
func (s *Session) DeleteProvider(wfp.ProviderKey) error {
	return unsupported("DeleteProvider")
}
func (s *Session) Provider(wfp.ProviderKey) (wfp.Provider, error) {
	return wfp.Provider{}, unsupported("Provider")
}
func (s *Session) Providers() ([]wfp.Provider, error) { return nil, unsupported("Providers") }
func (s *Session) AddSublayer(wfp.Sublayer) error     { return unsupported("AddSublayer") }
func (s *Session) DeleteSublayer(wfp.SublayerKey) error {
	return unsupported("DeleteSublayer")
}
func (s *Session) Sublayer(wfp.SublayerKey) (wfp.Sublayer, error) {
	return wfp.Sublayer{}, unsupported("Sublayer")
}
func (s *Session) Sublayers() ([]wfp.Sublayer, error) { return nil, unsupported("Sublayers") }
func (s *Session) AddCallout(wfp.Callout) (wfp.CalloutID, error) {
	return 0, unsupported("AddCallout")
}
func (s *Session) DeleteCallout(wfp.CalloutKey) error { return unsupported("DeleteCallout") }
func (s *Session) DeleteCalloutByID(wfp.CalloutID) error {
	return unsupported("DeleteCalloutByID")
}
func (s *Session) Callout(wfp.CalloutKey) (wfp.Callout, error) {
	return wfp.Callout{}, unsupported("Callout")
}
func (s *Session) Callouts() ([]wfp.Callout, error) { return nil, unsupported("Callouts") }
func (s *Session) AddFilter(wfp.Filter) (wfp.FilterID, error) {
	return 0, unsupported("AddFilter")
}
func (s *Session) DeleteFilter(wfp.FilterKey) error { return unsupported("DeleteFilter") }
func (s *Session) DeleteFilterByID(wfp.FilterID) error {
	return unsupported("DeleteFilterByID")
}
func (s *Session) Filter(wfp.FilterKey) (wfp.Filter, error) {
	return wfp.Filter{}, unsupported("Filter")
}
func (s *Session) FilterByID(wfp.FilterID) (wfp.Filter, error) {
	return wfp.Filter{}, unsupported("FilterByID")
}
func (s *Session) Filters(*wfp.FilterEnumTemplate) ([]wfp.Filter, error) {
	return nil, unsupported("Filters")
}
func (s *Session) NetEvents() ([]wfp.NetEvent, error) { return nil, unsupported("NetEvents") }

// SubscribeNetEvents has fn called with every new net event until the returned cancel
// is called (FwpmNetEventSubscribe0 on Windows); here it returns wfp.ErrNotSupported.
func (s *Session) SubscribeNetEvents(func(wfp.NetEvent)) (func() error, error) {
	return nil, unsupported("SubscribeNetEvents")
}
