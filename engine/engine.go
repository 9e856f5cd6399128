package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// Options configure a simulated engine. The zero value is a sensible default.
type Options struct {
	// Now is the engine's clock, used to stamp net events. Nil means the zero time, so
	// that traces and events are deterministic; replays set it to the capture's time.
	Now func() time.Time
	// NetEventCapacity bounds the net event ring (Windows keeps about 100-150 events in
	// 128 KB, rule E8). Zero means 1024; a negative value disables net events.
	NetEventCapacity int
	// LogAllows records CLASSIFY_ALLOW events too. Windows records drops by default and
	// allows only when the FWPM_NET_EVENT_KEYWORD_CLASSIFY_ALLOW keyword is set.
	LogAllows bool
	// ClassifyTimeout bounds how long one classifyFn call may take. Past it the
	// callout is a fault, as a panic is: its answer is block (hard), Decision.Fault
	// says "callout X did not return within T" and classification carries on. Go
	// cannot kill a goroutine, so the stuck call is abandoned, still running, and its
	// late answer is ignored; it must not touch the stack (meta.Kernel) after the
	// deadline. Zero means no deadline: classifyFn runs on the caller's goroutine and
	// costs nothing more. Callouts at the stream layer are not bounded.
	ClassifyTimeout time.Duration
}

// Engine is a simulated Base Filtering Engine together with the kernel filter engine:
// the object store that sessions change through the management API (wfp.Engine), and
// the compiled per-layer classifiers that Classify reads.
//
//	sessions ──(txn: one writer at a time, undo log)──> object store
//	                                 │ commit: recompile changed layers
//	                                 v
//	Classify ──(atomic load, no lock)──> immutable snapshot ──> decision + trace
type Engine struct {
	opts Options

	// txnLock is held by the session whose transaction (explicit or implicit) is
	// writing; a buffered channel so that waiting can time out (rule E2).
	txnLock chan struct{}

	mu      sync.Mutex // guards the fields below, taken under txnLock
	st      *store
	nextSID uint64
	// pendingCleanup are dynamic sessions that closed while another session held
	// the lock; their objects are deleted when it is released.
	pendingCleanup []uint64

	snap     atomic.Pointer[snapshot]
	registry atomic.Pointer[map[wfp.CalloutKey]callout.Callout]
	regMu    sync.Mutex

	events *netEventRing
}

// New returns an engine holding only the built-in objects: the built-in providers and
// sublayers of the catalogue, with the weights real machines report.
func New(opts Options) *Engine {
	e := &Engine{opts: opts, txnLock: make(chan struct{}, 1), st: newStore()}
	capacity := opts.NetEventCapacity
	if capacity == 0 {
		capacity = 1024
	}
	e.events = newNetEventRing(capacity)
	reg := map[wfp.CalloutKey]callout.Callout{}
	e.registry.Store(&reg)
	e.snap.Store(compileAll(e.st, nil))
	return e
}

// Open opens a session (FwpmEngineOpen0). A dynamic session's objects are deleted when
// it closes.
func (e *Engine) Open(opts wfp.SessionOptions) *Session {
	e.mu.Lock()
	e.nextSID++
	id := e.nextSID
	e.mu.Unlock()
	timeout := opts.TxnWaitTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	return &Session{e: e, id: id, opts: opts, timeout: timeout}
}

// RegisterCallout registers the code of a callout (FwpsCalloutRegister). The management
// object may be added before or after; filters naming an unregistered callout follow
// rule A9. Registering a key twice fails with wfp.ErrAlreadyExists.
func (e *Engine) RegisterCallout(key wfp.CalloutKey, c callout.Callout) error {
	if c == nil {
		return fmt.Errorf("engine: register callout %s: nil callout: %w", key, wfp.ErrNullPointer)
	}
	e.regMu.Lock()
	defer e.regMu.Unlock()
	old := *e.registry.Load()
	if _, ok := old[key]; ok {
		return fmt.Errorf("engine: register callout %s: %w", key, wfp.ErrAlreadyExists)
	}
	next := make(map[wfp.CalloutKey]callout.Callout, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = c
	e.registry.Store(&next)
	return nil
}

// UnregisterCallout removes a callout's code (FwpsCalloutUnregisterByKey).
func (e *Engine) UnregisterCallout(key wfp.CalloutKey) error {
	e.regMu.Lock()
	defer e.regMu.Unlock()
	old := *e.registry.Load()
	if _, ok := old[key]; !ok {
		return fmt.Errorf("engine: unregister callout %s: %w", key, wfp.ErrCalloutNotFound)
	}
	next := make(map[wfp.CalloutKey]callout.Callout, len(old))
	for k, v := range old {
		if k != key {
			next[k] = v
		}
	}
	e.registry.Store(&next)
	return nil
}

func (e *Engine) registered(key wfp.CalloutKey) callout.Callout {
	return (*e.registry.Load())[key]
}

func (e *Engine) now() time.Time {
	if e.opts.Now != nil {
		return e.opts.Now()
	}
	return time.Time{}
}

// NetEvents returns the recorded events, oldest first, and how many were dropped
// because the ring was full.
func (e *Engine) NetEvents() (events []wfp.NetEvent, dropped uint64) {
	return e.events.snapshot()
}

// builtinSublayerWeight is the weight of a built-in sublayer: the one real machines
// report (layers.Sublayer.WeightKnown), else 0x8000, the universal sublayer's.
func builtinSublayerWeight(s *layers.Sublayer) uint16 {
	if s.WeightKnown {
		return s.Weight
	}
	return 0x8000
}
