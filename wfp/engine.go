package wfp

// Engine is one session with a filter engine: the management calls of fwpuclnt.dll
// (FwpmEngineOpen0 and the Fwpm*Add0/Delete*/Get*/Enum* families). The simulator
// (package engine) and the real Base Filtering Engine (package bfe) both implement it,
// so a policy applied through it behaves the same on both.
//
// Calls outside an explicit transaction run in their own implicit one (rule E2).
// Errors are *Error values with the FWP_E_* code the BFE returns.
type Engine interface {
	// Close ends the session: an open transaction is aborted, and a dynamic session's
	// objects are deleted (rule E1).
	Close() error

	// BeginTransaction starts the session's explicit transaction; a second one fails
	// with FWP_E_TXN_IN_PROGRESS. A read-only transaction rejects writes with
	// FWP_E_INCOMPATIBLE_TXN.
	BeginTransaction(readOnly bool) error
	// CommitTransaction makes every change of the transaction visible at once.
	CommitTransaction() error
	// AbortTransaction discards every change of the transaction.
	AbortTransaction() error

	AddProvider(p Provider) error
	DeleteProvider(key ProviderKey) error
	Provider(key ProviderKey) (Provider, error)
	Providers() ([]Provider, error)

	AddSublayer(s Sublayer) error
	DeleteSublayer(key SublayerKey) error
	Sublayer(key SublayerKey) (Sublayer, error)
	Sublayers() ([]Sublayer, error)

	// AddCallout adds the management object of a callout and returns its runtime id.
	AddCallout(c Callout) (CalloutID, error)
	DeleteCallout(key CalloutKey) error
	DeleteCalloutByID(id CalloutID) error
	Callout(key CalloutKey) (Callout, error)
	Callouts() ([]Callout, error)

	// AddFilter validates and adds a filter and returns its runtime id. A zero key is
	// assigned by the engine.
	AddFilter(f Filter) (FilterID, error)
	DeleteFilter(key FilterKey) error
	DeleteFilterByID(id FilterID) error
	Filter(key FilterKey) (Filter, error)
	FilterByID(id FilterID) (Filter, error)
	// Filters enumerates the filters a template selects (all of them for nil), in
	// layer order, then sublayer weight and filter weight, highest first.
	Filters(t *FilterEnumTemplate) ([]Filter, error)

	// NetEvents returns the recorded classify drop and allow events, oldest first.
	NetEvents() ([]NetEvent, error)
}
