//go:build windows && (amd64 || arm64)

package bfe

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/wfpsim/wfpsim/internal/fwpm"
	"github.com/wfpsim/wfpsim/wfp"
)

// Session is one session with the Base Filtering Engine (an FwpmEngineOpen0 handle).
// Its methods may be called from several goroutines; the BFE serializes them.
type Session struct {
	mu     sync.Mutex
	handle windows.Handle
	closed bool
}

var _ wfp.Engine = (*Session)(nil)

// enumBatch is how many entries each Fwpm*Enum0 call asks for.
const enumBatch = 256

// mapErr turns what fwpuclnt.dll returned into an error naming the call. FWP_E_*
// HRESULTs become the wfp sentinel with that code, so errors.Is(err,
// wfp.ErrFilterNotFound) works; other codes (ERROR_ACCESS_DENIED, RPC errors) stay
// syscall.Errno values.
func mapErr(call string, err error) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if e := wfp.ErrorByCode(uint32(errno)); e != nil {
			return fmt.Errorf("bfe: %s: %w", call, e)
		}
		if errno == windows.ERROR_ACCESS_DENIED {
			return fmt.Errorf("bfe: %s: %w (the Base Filtering Engine needs administrator rights)", call, errno)
		}
		return fmt.Errorf("bfe: %s: %w (error 0x%08X)", call, errno, uint32(errno))
	}
	return fmt.Errorf("bfe: %s: %w", call, err)
}

// Open opens a session with the local BFE (FwpmEngineOpen0). opts.Dynamic makes it a
// dynamic session (FWPM_SESSION_FLAG_DYNAMIC): what it adds is deleted when it closes.
func Open(opts wfp.SessionOptions) (*Session, error) {
	a := fwpm.NewArena()
	defer a.Free()
	ses, err := fwpm.EncodeSession(a, &opts)
	if err != nil {
		return nil, fmt.Errorf("bfe: Open: %w", err)
	}
	var h windows.Handle
	if err := fwpm.FwpmEngineOpen0(nil, fwpm.RPCAuthnDefault, 0, ses, &h); err != nil {
		return nil, mapErr("FwpmEngineOpen0", err)
	}
	return &Session{handle: h}, nil
}

// AppIDFromFileName asks Windows for the app id of a file (FwpmGetAppIdFromFileName0):
// the NUL-terminated UTF-16LE NT device path, as a wfp.ByteBlob. The file must exist.
func AppIDFromFileName(path string) (wfp.Value, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, fmt.Errorf("bfe: AppIDFromFileName(%q): %w", path, err)
	}
	var blob *fwpm.ByteBlob
	if err := fwpm.FwpmGetAppIdFromFileName0(p, &blob); err != nil {
		return nil, mapErr(fmt.Sprintf("FwpmGetAppIdFromFileName0(%q)", path), err)
	}
	defer freeMemory(&blob)
	return wfp.ByteBlob(fwpm.BlobBytes(*blob)), nil
}

// freeMemory hands memory the BFE allocated back (FwpmFreeMemory0 sets *p to NULL).
func freeMemory[T any](p **T) {
	if *p != nil {
		fwpm.FwpmFreeMemory0((*unsafe.Pointer)(unsafe.Pointer(p)))
	}
}

// use runs f with the session's handle, or fails if the session is closed.
func (s *Session) use(call string, f func(h windows.Handle) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.handle == 0 {
		return fmt.Errorf("bfe: %s on a closed session: want a session from bfe.Open: %w", call, wfp.ErrSessionAborted)
	}
	return f(s.handle)
}

// withArena runs f with a fresh arena and frees it afterwards.
func withArena(f func(a *fwpm.Arena) error) error {
	a := fwpm.NewArena()
	defer a.Free()
	return f(a)
}

// Close closes the session (FwpmEngineClose0): the BFE aborts an open transaction and
// deletes a dynamic session's objects. A second Close does nothing.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return mapErr("FwpmEngineClose0", fwpm.FwpmEngineClose0(s.handle))
}

func (s *Session) BeginTransaction(readOnly bool) error {
	var flags uint32
	if readOnly {
		flags = fwpm.TxnReadOnly
	}
	return s.use("BeginTransaction", func(h windows.Handle) error {
		return mapErr("FwpmTransactionBegin0", fwpm.FwpmTransactionBegin0(h, flags))
	})
}

func (s *Session) CommitTransaction() error {
	return s.use("CommitTransaction", func(h windows.Handle) error {
		return mapErr("FwpmTransactionCommit0", fwpm.FwpmTransactionCommit0(h))
	})
}

func (s *Session) AbortTransaction() error {
	return s.use("AbortTransaction", func(h windows.Handle) error {
		return mapErr("FwpmTransactionAbort0", fwpm.FwpmTransactionAbort0(h))
	})
}

// enumAll runs one Fwpm*CreateEnumHandle0 / Enum<version> / DestroyEnumHandle0 cycle,
// decoding every entry into the Go heap and freeing each batch with FwpmFreeMemory0.
func enumAll[T, R any](h windows.Handle, name string, version int,
	create func(eh *windows.Handle) error,
	enum func(eh windows.Handle, n uint32, entries ***T, got *uint32) error,
	destroy func(eh windows.Handle) error,
	decode func(*T) (R, error),
) ([]R, error) {
	var eh windows.Handle
	if err := create(&eh); err != nil {
		return nil, mapErr("Fwpm"+name+"CreateEnumHandle0", err)
	}
	var out []R
	var ferr error
	for {
		var entries **T
		var got uint32
		if err := enum(eh, enumBatch, &entries, &got); err != nil {
			ferr = mapErr(fmt.Sprintf("Fwpm%sEnum%d", name, version), err)
			break
		}
		if entries != nil && got > 0 {
			for _, e := range unsafe.Slice(entries, got) {
				r, err := decode(e)
				if err != nil && ferr == nil {
					ferr = fmt.Errorf("bfe: Fwpm%sEnum%d: %w", name, version, err)
				}
				out = append(out, r)
			}
		}
		freeMemory(&entries)
		if ferr != nil || got < enumBatch {
			break
		}
	}
	if err := destroy(eh); err != nil && ferr == nil {
		ferr = mapErr("Fwpm"+name+"DestroyEnumHandle0", err)
	}
	if ferr != nil {
		return nil, ferr
	}
	return out, nil
}

// Providers.

func (s *Session) AddProvider(p wfp.Provider) error {
	return s.use("AddProvider", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			enc, err := fwpm.EncodeProvider(a, &p)
			if err != nil {
				return fmt.Errorf("bfe: AddProvider: %w", err)
			}
			return mapErr("FwpmProviderAdd0", fwpm.FwpmProviderAdd0(h, enc, 0))
		})
	})
}

func (s *Session) DeleteProvider(key wfp.ProviderKey) error {
	return s.use("DeleteProvider", func(h windows.Handle) error {
		g := wfp.GUID(key)
		return mapErr("FwpmProviderDeleteByKey0("+key.String()+")", fwpm.FwpmProviderDeleteByKey0(h, &g))
	})
}

func (s *Session) Provider(key wfp.ProviderKey) (out wfp.Provider, err error) {
	err = s.use("Provider", func(h windows.Handle) error {
		g := wfp.GUID(key)
		var p *fwpm.Provider0
		if err := fwpm.FwpmProviderGetByKey0(h, &g, &p); err != nil {
			return mapErr("FwpmProviderGetByKey0("+key.String()+")", err)
		}
		defer freeMemory(&p)
		out = fwpm.DecodeProvider(p)
		return nil
	})
	return out, err
}

func (s *Session) Providers() (out []wfp.Provider, err error) {
	err = s.use("Providers", func(h windows.Handle) error {
		out, err = enumAll(h, "Provider", 0,
			func(eh *windows.Handle) error { return fwpm.FwpmProviderCreateEnumHandle0(h, nil, eh) },
			func(eh windows.Handle, n uint32, e ***fwpm.Provider0, got *uint32) error {
				return fwpm.FwpmProviderEnum0(h, eh, n, e, got)
			},
			func(eh windows.Handle) error { return fwpm.FwpmProviderDestroyEnumHandle0(h, eh) },
			func(p *fwpm.Provider0) (wfp.Provider, error) { return fwpm.DecodeProvider(p), nil })
		return err
	})
	return out, err
}

// Sublayers.

func (s *Session) AddSublayer(sl wfp.Sublayer) error {
	return s.use("AddSublayer", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			enc, err := fwpm.EncodeSublayer(a, &sl)
			if err != nil {
				return fmt.Errorf("bfe: AddSublayer: %w", err)
			}
			return mapErr("FwpmSubLayerAdd0", fwpm.FwpmSubLayerAdd0(h, enc, 0))
		})
	})
}

func (s *Session) DeleteSublayer(key wfp.SublayerKey) error {
	return s.use("DeleteSublayer", func(h windows.Handle) error {
		g := wfp.GUID(key)
		return mapErr("FwpmSubLayerDeleteByKey0("+key.String()+")", fwpm.FwpmSubLayerDeleteByKey0(h, &g))
	})
}

func (s *Session) Sublayer(key wfp.SublayerKey) (out wfp.Sublayer, err error) {
	err = s.use("Sublayer", func(h windows.Handle) error {
		g := wfp.GUID(key)
		var p *fwpm.Sublayer0
		if err := fwpm.FwpmSubLayerGetByKey0(h, &g, &p); err != nil {
			return mapErr("FwpmSubLayerGetByKey0("+key.String()+")", err)
		}
		defer freeMemory(&p)
		out = fwpm.DecodeSublayer(p)
		return nil
	})
	return out, err
}

func (s *Session) Sublayers() (out []wfp.Sublayer, err error) {
	err = s.use("Sublayers", func(h windows.Handle) error {
		out, err = s.sublayers(h)
		return err
	})
	return out, err
}

func (s *Session) sublayers(h windows.Handle) ([]wfp.Sublayer, error) {
	return enumAll(h, "SubLayer", 0,
		func(eh *windows.Handle) error { return fwpm.FwpmSubLayerCreateEnumHandle0(h, nil, eh) },
		func(eh windows.Handle, n uint32, e ***fwpm.Sublayer0, got *uint32) error {
			return fwpm.FwpmSubLayerEnum0(h, eh, n, e, got)
		},
		func(eh windows.Handle) error { return fwpm.FwpmSubLayerDestroyEnumHandle0(h, eh) },
		func(p *fwpm.Sublayer0) (wfp.Sublayer, error) { return fwpm.DecodeSublayer(p), nil })
}

// Callouts.

func (s *Session) AddCallout(c wfp.Callout) (id wfp.CalloutID, err error) {
	err = s.use("AddCallout", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			enc, err := fwpm.EncodeCallout(a, &c)
			if err != nil {
				return fmt.Errorf("bfe: AddCallout: %w", err)
			}
			var raw uint32
			if err := fwpm.FwpmCalloutAdd0(h, enc, 0, &raw); err != nil {
				return mapErr("FwpmCalloutAdd0", err)
			}
			id = wfp.CalloutID(raw)
			return nil
		})
	})
	return id, err
}

func (s *Session) DeleteCallout(key wfp.CalloutKey) error {
	return s.use("DeleteCallout", func(h windows.Handle) error {
		g := wfp.GUID(key)
		return mapErr("FwpmCalloutDeleteByKey0("+key.String()+")", fwpm.FwpmCalloutDeleteByKey0(h, &g))
	})
}

func (s *Session) DeleteCalloutByID(id wfp.CalloutID) error {
	return s.use("DeleteCalloutByID", func(h windows.Handle) error {
		return mapErr(fmt.Sprintf("FwpmCalloutDeleteById0(%d)", id), fwpm.FwpmCalloutDeleteById0(h, uint32(id)))
	})
}

func (s *Session) Callout(key wfp.CalloutKey) (out wfp.Callout, err error) {
	err = s.use("Callout", func(h windows.Handle) error {
		g := wfp.GUID(key)
		var p *fwpm.Callout0
		if err := fwpm.FwpmCalloutGetByKey0(h, &g, &p); err != nil {
			return mapErr("FwpmCalloutGetByKey0("+key.String()+")", err)
		}
		defer freeMemory(&p)
		out = fwpm.DecodeCallout(p)
		return nil
	})
	return out, err
}

func (s *Session) Callouts() (out []wfp.Callout, err error) {
	err = s.use("Callouts", func(h windows.Handle) error {
		out, err = enumAll(h, "Callout", 0,
			func(eh *windows.Handle) error { return fwpm.FwpmCalloutCreateEnumHandle0(h, nil, eh) },
			func(eh windows.Handle, n uint32, e ***fwpm.Callout0, got *uint32) error {
				return fwpm.FwpmCalloutEnum0(h, eh, n, e, got)
			},
			func(eh windows.Handle) error { return fwpm.FwpmCalloutDestroyEnumHandle0(h, eh) },
			func(p *fwpm.Callout0) (wfp.Callout, error) { return fwpm.DecodeCallout(p), nil })
		return err
	})
	return out, err
}

// Filters.

func (s *Session) AddFilter(f wfp.Filter) (id wfp.FilterID, err error) {
	err = s.use("AddFilter", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			enc, err := fwpm.EncodeFilter(a, &f)
			if err != nil {
				return fmt.Errorf("bfe: AddFilter: %w", err)
			}
			var raw uint64
			if err := fwpm.FwpmFilterAdd0(h, enc, 0, &raw); err != nil {
				return mapErr(fmt.Sprintf("FwpmFilterAdd0(%q)", f.DisplayData.Name), err)
			}
			id = wfp.FilterID(raw)
			return nil
		})
	})
	return id, err
}

func (s *Session) DeleteFilter(key wfp.FilterKey) error {
	return s.use("DeleteFilter", func(h windows.Handle) error {
		g := wfp.GUID(key)
		return mapErr("FwpmFilterDeleteByKey0("+key.String()+")", fwpm.FwpmFilterDeleteByKey0(h, &g))
	})
}

// DeleteFilterByID deletes a filter by its runtime id (FwpmFilterDeleteById0). The id
// is a UINT64 passed in one register, so this needs 64-bit Windows (amd64, arm64).
func (s *Session) DeleteFilterByID(id wfp.FilterID) error {
	return s.use("DeleteFilterByID", func(h windows.Handle) error {
		return mapErr(fmt.Sprintf("FwpmFilterDeleteById0(%d)", id), fwpm.FwpmFilterDeleteById0(h, uint64(id)))
	})
}

func (s *Session) Filter(key wfp.FilterKey) (out wfp.Filter, err error) {
	err = s.use("Filter", func(h windows.Handle) error {
		g := wfp.GUID(key)
		var p *fwpm.Filter0
		if err := fwpm.FwpmFilterGetByKey0(h, &g, &p); err != nil {
			return mapErr("FwpmFilterGetByKey0("+key.String()+")", err)
		}
		defer freeMemory(&p)
		out, err = fwpm.DecodeFilter(p)
		return err
	})
	return out, err
}

// FilterByID returns a filter by its runtime id (FwpmFilterGetById0); like
// DeleteFilterByID it needs 64-bit Windows.
func (s *Session) FilterByID(id wfp.FilterID) (out wfp.Filter, err error) {
	err = s.use("FilterByID", func(h windows.Handle) error {
		var p *fwpm.Filter0
		if err := fwpm.FwpmFilterGetById0(h, uint64(id), &p); err != nil {
			return mapErr(fmt.Sprintf("FwpmFilterGetById0(%d)", id), err)
		}
		defer freeMemory(&p)
		out, err = fwpm.DecodeFilter(p)
		return err
	})
	return out, err
}

// Filters enumerates filters (FwpmFilterEnum0). A template with a layer goes to the BFE
// as an FWPM_FILTER_ENUM_TEMPLATE0; one without a layer cannot (the BFE requires the
// layer), so every filter is enumerated and the provider, callout and action mask are
// applied here, and conditions are refused. The result is sorted as wfp.Engine says,
// with sublayer weights read from the BFE.
func (s *Session) Filters(t *wfp.FilterEnumTemplate) (out []wfp.Filter, err error) {
	if t != nil && t.Layer.IsZero() && len(t.Conditions) > 0 {
		return nil, fmt.Errorf("bfe: Filters: a template with conditions but no layer: want a layer, the BFE compares conditions only within one: %w", wfp.ErrInvalidEnumerator)
	}
	sent := t != nil && !t.Layer.IsZero()
	err = s.use("Filters", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			var tmpl *fwpm.FilterEnumTemplate0
			if sent {
				var err error
				if tmpl, err = fwpm.EncodeFilterEnumTemplate(a, t); err != nil {
					return fmt.Errorf("bfe: Filters: %w", err)
				}
			}
			all, err := enumAll(h, "Filter", 0,
				func(eh *windows.Handle) error { return fwpm.FwpmFilterCreateEnumHandle0(h, tmpl, eh) },
				func(eh windows.Handle, n uint32, e ***fwpm.Filter0, got *uint32) error {
					return fwpm.FwpmFilterEnum0(h, eh, n, e, got)
				},
				func(eh windows.Handle) error { return fwpm.FwpmFilterDestroyEnumHandle0(h, eh) },
				fwpm.DecodeFilter)
			if err != nil {
				return err
			}
			for i := range all {
				if selectFilter(&all[i], t, sent) {
					out = append(out, all[i])
				}
			}
			subs, err := s.sublayers(h)
			if err != nil {
				return err
			}
			weights := make(map[wfp.SublayerKey]uint16, len(subs))
			for _, sl := range subs {
				weights[sl.Key] = sl.Weight
			}
			sortFilters(out, weights)
			return nil
		})
	})
	return out, err
}

// NetEvents enumerates the BFE's recorded net events (FwpmNetEventEnum1), oldest
// first: for a classify drop, the filter and layer ids, the direction and whether it
// was loopback (see fwpm.DecodeNetEvent). Collection must be enabled
// (FWPM_ENGINE_COLLECT_NET_EVENTS), else the BFE returns FWP_E_NET_EVENTS_DISABLED.
func (s *Session) NetEvents() (out []wfp.NetEvent, err error) {
	err = s.use("NetEvents", func(h windows.Handle) error {
		out, err = enumAll(h, "NetEvent", 1,
			func(eh *windows.Handle) error { return fwpm.FwpmNetEventCreateEnumHandle0(h, nil, eh) },
			func(eh windows.Handle, n uint32, e ***fwpm.NetEvent1, got *uint32) error {
				return fwpm.FwpmNetEventEnum1(h, eh, n, e, got)
			},
			func(eh windows.Handle) error { return fwpm.FwpmNetEventDestroyEnumHandle0(h, eh) },
			fwpm.DecodeNetEvent)
		return err
	})
	return out, err
}

// SubscribeNetEvents has fn called with every net event the BFE records from now on
// (FwpmNetEventSubscribe0), until the returned cancel is called
// (FwpmNetEventUnsubscribe0). fn runs on a thread of the BFE client library, one event
// at a time per subscription; it must return quickly and must call neither cancel nor
// the session's methods (cancel waits for the callbacks under way, while holding the
// session). An event that does not decode is passed on with what did decode.
// Collection must be enabled, as for NetEvents.
func (s *Session) SubscribeNetEvents(fn func(wfp.NetEvent)) (cancel func() error, err error) {
	id := subscriptions.add(fn)
	var events windows.Handle
	err = s.use("SubscribeNetEvents", func(h windows.Handle) error {
		return withArena(func(a *fwpm.Arena) error {
			sub, err := fwpm.EncodeNetEventSubscription(a)
			if err != nil {
				return err
			}
			return mapErr("FwpmNetEventSubscribe0", fwpm.FwpmNetEventSubscribe0(h, sub, netEventCallback(), id, &events))
		})
	})
	if err != nil {
		subscriptions.remove(id)
		return nil, err
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			err = s.use("SubscribeNetEvents cancel", func(h windows.Handle) error {
				return mapErr("FwpmNetEventUnsubscribe0", fwpm.FwpmNetEventUnsubscribe0(h, events))
			})
			subscriptions.remove(id)
		})
		return err
	}, nil
}

// subscriptions maps the context a subscription gave FwpmNetEventSubscribe0 to its
// function: the callback is one function for the whole process (windows.NewCallback
// makes a limited number of them), and the context says whose event it is.
var subscriptions = &subscriptionTable{fns: map[uintptr]func(wfp.NetEvent){}}

type subscriptionTable struct {
	mu   sync.Mutex
	next uintptr
	fns  map[uintptr]func(wfp.NetEvent)
}

func (t *subscriptionTable) add(fn func(wfp.NetEvent)) uintptr {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.fns[t.next] = fn
	return t.next
}

func (t *subscriptionTable) remove(id uintptr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fns, id)
}

func (t *subscriptionTable) get(id uintptr) func(wfp.NetEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fns[id]
}

// netEventCallback is the FWPM_NET_EVENT_CALLBACK0 of every subscription, made once.
var netEventCallback = sync.OnceValue(func() uintptr {
	return windows.NewCallback(func(context uintptr, event *fwpm.NetEvent1) uintptr {
		if fn := subscriptions.get(context); fn != nil && event != nil {
			ev, _ := fwpm.DecodeNetEvent(event)
			fn(ev)
		}
		return 0
	})
})
