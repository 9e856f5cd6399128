// Command endpoint-lifetime replays the bundled workstation capture with one
// inspection callout at the ALE layers that open and close an endpoint
// (RESOURCE_ASSIGNMENT, AUTH_CONNECT, AUTH_RECV_ACCEPT, ENDPOINT_CLOSURE,
// RESOURCE_RELEASE), and prints each endpoint's life, matched by its
// TRANSPORT_ENDPOINT_HANDLE, as an EDR driver tracks sockets.
//
//	go run ./examples/endpoint-lifetime [CAPTURE [HOST.yaml]]
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "endpoint-lifetime:", err)
		os.Exit(1)
	}
}

// find returns the first of the paths that exists (the example runs from its
// own directory under go test, and from the repository root under go run).
func find(rel string) string {
	for _, p := range []string{filepath.Join("..", "..", rel), rel} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return rel
}

// event is one indication the watcher saw: at which layer, for which endpoint.
type event struct {
	layer         string
	handle        uint64
	parent        uint64
	local, remote string
	proto         uint8
	packet        uint64 // the packet whose walk caused it; 0 after the capture
}

// watcher is the callout: it records every indication with its endpoint handle and
// permits (CALLOUT_INSPECTION: it changes no verdict).
type watcher struct {
	events []event
}

func (w *watcher) Classify(in *callout.IncomingValues, m *callout.Metadata, _ any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	out.Action = wfp.ActionContinue
	if !m.Has(callout.MetaTransportEndpointHandle) {
		return // no transport endpoint (an ICMP echo, a socket bound before the capture)
	}
	l, _ := layers.LayerByID(in.LayerID)
	e := event{layer: strings.TrimSuffix(strings.TrimSuffix(l.ShortName, "_V4"), "_V6"), handle: m.TransportEndpointHandle, parent: m.ParentEndpointHandle}
	e.local = addrPort(in, l, layers.ConditionIPLocalAddress, layers.ConditionIPLocalPort)
	e.remote = addrPort(in, l, layers.ConditionIPRemoteAddress, layers.ConditionIPRemotePort)
	if v, ok := value(in, l, layers.ConditionIPProtocol); ok {
		n, _, _ := wfp.Unsigned(v)
		e.proto = uint8(n)
	}
	w.events = append(w.events, e)
}
func (w *watcher) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (w *watcher) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// value is the incoming value of a condition at the layer, if the layer has it.
func value(in *callout.IncomingValues, l *layers.Layer, c *layers.Condition) (wfp.Value, bool) {
	f, ok := l.Field(c.Key)
	if !ok || f.Index >= len(in.Values) || in.Values[f.Index] == nil {
		return nil, false
	}
	return in.Values[f.Index], true
}

// addrPort is an address and port condition pair as "a:p", "" when the layer has none.
func addrPort(in *callout.IncomingValues, l *layers.Layer, addr, port *layers.Condition) string {
	a, ok := value(in, l, addr)
	if !ok {
		return ""
	}
	var ip netip.Addr
	switch v := a.(type) {
	case wfp.Uint32:
		ip = wfp.V4ToAddr(uint32(v))
	case wfp.ByteArray16:
		ip = netip.AddrFrom16(v).Unmap()
	default:
		return ""
	}
	p, _ := value(in, l, port)
	n, _, _ := wfp.Unsigned(p)
	return netip.AddrPortFrom(ip, uint16(n)).String()
}

func run(w io.Writer, args []string) error {
	capture := find("testdata/pcap/generated/workstation.pcap")
	hostFile := find("testdata/hosts/workstation.yaml")
	if len(args) > 0 {
		capture = args[0]
	}
	if len(args) > 1 {
		hostFile = args[1]
	}
	host, err := replay.LoadHost(hostFile)
	if err != nil {
		return err
	}
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "endpoint watcher"})
	watch := &watcher{}
	for _, l := range []*layers.Layer{
		layers.ALEResourceAssignmentV4, layers.ALEResourceAssignmentV6, layers.ALEAuthConnectV4, layers.ALEAuthConnectV6,
		layers.ALEAuthRecvAcceptV4, layers.ALEAuthRecvAcceptV6, layers.ALEEndpointClosureV4, layers.ALEEndpointClosureV6,
		layers.ALEResourceReleaseV4, layers.ALEResourceReleaseV6,
	} {
		key := wfp.CalloutKey(wfp.GUIDFromName("callout", "watch-"+l.ShortName))
		if err := eng.RegisterCallout(key, watch); err != nil {
			return err
		}
		if _, err := s.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: "watch " + l.ShortName}, Layer: l.Key}); err != nil {
			return err
		}
		if _, err := s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "watch " + l.ShortName}, Layer: l.Key,
			Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: key}}); err != nil {
			return err
		}
	}

	r := replay.New(eng, replay.Options{Host: host})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	// The callouts run during a packet's walk; emit comes right after it, so the
	// events since the last emit belong to this packet.
	seen := 0
	if err := r.Replay(capture, func(pr *replay.PacketResult) error {
		for i := seen; i < len(watch.events); i++ {
			watch.events[i].packet = pr.N
		}
		seen = len(watch.events)
		return nil
	}, func(p replay.Problem) { fmt.Fprintf(w, "problem: %s\n", p) }); err != nil {
		return err
	}
	r.Stack().Close() // the host shuts down: what is still open is closed and released

	byHandle := map[uint64][]event{}
	for _, e := range watch.events {
		byHandle[e.handle] = append(byHandle[e.handle], e)
	}
	handles := make([]uint64, 0, len(byHandle))
	for h := range byHandle {
		handles = append(handles, h)
	}
	sort.Slice(handles, func(i, j int) bool { return handles[i] < handles[j] })
	fmt.Fprintf(w, "%d endpoints in %s, by TRANSPORT_ENDPOINT_HANDLE:\n", len(handles), filepath.Base(capture))
	for _, h := range handles {
		evs := byHandle[h]
		first := evs[0]
		what := fmt.Sprintf("%s %s", proto(first.proto), first.local)
		for _, e := range evs {
			if e.remote != "" {
				what += " -> " + e.remote
				break
			}
		}
		if first.parent != 0 {
			what += fmt.Sprintf(" (accepted by h%d)", first.parent)
		}
		fmt.Fprintf(w, "  h%-2d %s\n", h, what)
		var steps []string
		for _, e := range evs {
			at := "at shutdown"
			if e.packet != 0 {
				at = fmt.Sprintf("#%d", e.packet)
			}
			steps = append(steps, fmt.Sprintf("%s %s", strings.TrimPrefix(e.layer, "ALE_"), at))
		}
		fmt.Fprintf(w, "      %s\n", strings.Join(steps, ", "))
	}
	return nil
}

func proto(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return fmt.Sprint(p)
}
