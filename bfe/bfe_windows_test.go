//go:build windows && (amd64 || arm64)

package bfe

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

// TestMapErr needs neither administrator rights nor the BFE.
func TestMapErr(t *testing.T) {
	err := mapErr("FwpmFilterGetByKey0", syscall.Errno(0x80320003))
	if !errors.Is(err, wfp.ErrFilterNotFound) || !errors.Is(err, wfp.ErrNotFound) {
		t.Errorf("mapErr(0x80320003) = %v, want FWP_E_FILTER_NOT_FOUND", err)
	}
	if err := mapErr("x", syscall.Errno(5)); !errors.Is(err, syscall.Errno(5)) {
		t.Errorf("mapErr(ERROR_ACCESS_DENIED) = %v, want the errno kept", err)
	}
	if mapErr("x", nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}

// openTest opens a dynamic session, so everything the test adds disappears with it
// even if the test dies. It needs WFPSIM_BFE=1 and an elevated prompt.
func openTest(t *testing.T) *Session {
	t.Helper()
	if os.Getenv("WFPSIM_BFE") != "1" {
		t.Skip("set WFPSIM_BFE=1 in an elevated prompt to run the tests against the real Base Filtering Engine")
	}
	s, err := Open(wfp.SessionOptions{Name: "wfpsim bfe test", Dynamic: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustLayer(t *testing.T, name string) wfp.LayerKey {
	l, ok := layers.LayerByName(name)
	if !ok {
		t.Fatalf("no layer %s in the catalogue", name)
	}
	return l.Key
}

func mustField(t *testing.T, name string) wfp.FieldKey {
	c, ok := layers.ConditionByName(name)
	if !ok {
		t.Fatalf("no condition %s in the catalogue", name)
	}
	return c.Key
}

func TestRoundTripOnBFE(t *testing.T) {
	s := openTest(t)
	prov := wfp.Provider{Key: wfp.ProviderKey(wfp.GUIDFromName("provider", "wfpsim bfe test")), DisplayData: wfp.DisplayData{Name: "wfpsim bfe test"}}
	sub := wfp.Sublayer{Key: wfp.SublayerKey(wfp.GUIDFromName("sublayer", "wfpsim bfe test")), DisplayData: wfp.DisplayData{Name: "wfpsim bfe test"}, Provider: prov.Key, Weight: 0x100}
	// Block connections to 127.0.0.1:47001 only: a loopback test port nothing listens on.
	f := wfp.Filter{
		Key:         wfp.FilterKey(wfp.GUIDFromName("filter", "wfpsim bfe test")),
		DisplayData: wfp.DisplayData{Name: "wfpsim bfe test: block 127.0.0.1:47001"},
		Provider:    prov.Key,
		Layer:       mustLayer(t, "ALE_AUTH_CONNECT_V4"),
		Sublayer:    sub.Key,
		Weight:      wfp.RangeWeight(1),
		Conditions: []wfp.Condition{
			{Field: mustField(t, "IP_REMOTE_ADDRESS"), Match: wfp.MatchEqual, Value: wfp.PrefixValue(netip.MustParsePrefix("127.0.0.1/32"))},
			{Field: mustField(t, "IP_REMOTE_PORT"), Match: wfp.MatchEqual, Value: wfp.Uint16(47001)},
		},
		Action: wfp.Action{Type: wfp.ActionBlock},
	}
	if err := s.BeginTransaction(false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProvider(prov); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSublayer(sub); err != nil {
		t.Fatal(err)
	}
	id, err := s.AddFilter(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CommitTransaction(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Filter(f.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.DisplayData != f.DisplayData || len(got.Conditions) != 2 || got.Sublayer != sub.Key {
		t.Errorf("Filter = %+v, want the filter added with id %d", got, id)
	}
	byID, err := s.FilterByID(id)
	if err != nil || byID.Key != f.Key {
		t.Errorf("FilterByID(%d) = %v, %v", id, byID.Key, err)
	}
	pk := prov.Key
	list, err := s.Filters(&wfp.FilterEnumTemplate{Provider: &pk})
	if err != nil || len(list) != 1 {
		t.Errorf("Filters(provider) = %d filters, %v; want 1", len(list), err)
	}
	if _, err := s.Sublayer(sub.Key); err != nil {
		t.Error(err)
	}
	if _, err := s.Provider(prov.Key); err != nil {
		t.Error(err)
	}
	if err := s.DeleteFilterByID(id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Filter(f.Key); !errors.Is(err, wfp.ErrFilterNotFound) {
		t.Errorf("Filter after delete: %v, want FWP_E_FILTER_NOT_FOUND", err)
	}
	if err := s.AddSublayer(sub); !errors.Is(err, wfp.ErrAlreadyExists) {
		t.Errorf("adding the sublayer twice: %v, want FWP_E_ALREADY_EXISTS", err)
	}
	if err := s.BeginTransaction(true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProvider(wfp.Provider{DisplayData: wfp.DisplayData{Name: "x"}}); !errors.Is(err, wfp.ErrIncompatibleTxn) {
		t.Errorf("write in a read-only transaction: %v, want FWP_E_INCOMPATIBLE_TXN", err)
	}
	if err := s.AbortTransaction(); err != nil {
		t.Error(err)
	}
}

func TestAppIDFromFileNameOnBFE(t *testing.T) {
	openTest(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	v, err := AppIDFromFileName(exe)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := v.(wfp.ByteBlob)
	if !ok {
		t.Fatalf("AppIDFromFileName = %T, want wfp.ByteBlob", v)
	}
	if s, ok := b.UTF16(); !ok || len(s) < len(`\device\`) {
		t.Errorf("app id %v is not an NT device path", b)
	}
}

// A subscription sees the drop of a blocked loopback connection, with its direction
// and loopback flag (FWPM_NET_EVENT_CLASSIFY_DROP1).
func TestSubscribeNetEventsOnBFE(t *testing.T) {
	s := openTest(t)
	drops := make(chan wfp.NetEvent, 16)
	cancel, err := s.SubscribeNetEvents(func(ev wfp.NetEvent) {
		if ev.Type == wfp.NetEventClassifyDrop && ev.Header.RemotePort == 47002 {
			select {
			case drops <- ev:
			default:
			}
		}
	})
	if errors.Is(err, wfp.ErrNetEventsDisabled) {
		t.Skip("net event collection is disabled on this machine")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cancel(); err != nil {
			t.Error(err)
		}
	}()
	f := wfp.Filter{
		DisplayData: wfp.DisplayData{Name: "wfpsim bfe test: block 127.0.0.1:47002"},
		Layer:       mustLayer(t, "ALE_AUTH_CONNECT_V4"),
		Weight:      wfp.RangeWeight(1),
		Conditions: []wfp.Condition{
			{Field: mustField(t, "IP_REMOTE_ADDRESS"), Match: wfp.MatchEqual, Value: wfp.PrefixValue(netip.MustParsePrefix("127.0.0.1/32"))},
			{Field: mustField(t, "IP_REMOTE_PORT"), Match: wfp.MatchEqual, Value: wfp.Uint16(47002)},
		},
		Action: wfp.Action{Type: wfp.ActionBlock},
	}
	id, err := s.AddFilter(f)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:47002", 2*time.Second); err == nil {
		c.Close()
		t.Fatal("the connection went through the block")
	}
	select {
	case ev := <-drops:
		if ev.FilterID != id || ev.Direction != wfp.DirectionOutbound || !ev.Loopback {
			t.Errorf("drop event %+v: want filter %d, outbound, loopback", ev, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no drop event within 5 s")
	}
}
