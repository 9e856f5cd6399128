// Command stream-rewrite encrypts a TCP stream on its way out and decrypts it
// on its way in, with a callout at FWPM_LAYER_STREAM_V4 that blocks the
// original bytes (absorbing them) and injects a rewritten packet, skipping the
// packets it injected itself — the pattern of Microsoft's stream-edit and
// packet-modification samples. The "cipher" is ROT13, so the output is legible.
//
//	go run ./examples/stream-rewrite
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "stream-rewrite:", err)
		os.Exit(1)
	}
}

// injectionHandle identifies this driver's injections
// (FwpsInjectionHandleCreate0); the stack passes it back in Metadata.InjectedBy.
const injectionHandle = 0x5eed

// rewriter is the stream callout. It runs behind a CALLOUT_TERMINATING filter in a
// high sublayer: for bytes it did not inject, it injects the rewritten packet and
// blocks the original with FWPS_CLASSIFY_OUT_FLAG_ABSORB (silently: no discard
// indication, rule A11); for its own injected bytes it permits (at a terminating
// filter, continue would mean block, rule A8).
type rewriter struct {
	w      io.Writer
	errors []error
}

func (r *rewriter) Classify(in *callout.IncomingValues, meta *callout.Metadata, layerData any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
	sp, ok := layerData.(*callout.StreamPacket)
	if !ok || meta.InjectedBy == injectionHandle || len(sp.Data) == 0 {
		out.Action = wfp.ActionPermit
		return
	}
	local := netip.AddrPortFrom(addr(in, layers.ConditionIPLocalAddress), port(in, layers.ConditionIPLocalPort))
	remote := netip.AddrPortFrom(addr(in, layers.ConditionIPRemoteAddress), port(in, layers.ConditionIPRemotePort))
	data := rot13(sp.Data)
	req := callout.InjectRequest{Handle: injectionHandle, FlowID: meta.FlowHandle}
	if sp.Flags&callout.StreamFlagSend != 0 {
		fmt.Fprintf(r.w, "  rewriter (send):    %q -> %q, injected with FwpsInjectNetworkSendAsync0\n", sp.Data, data)
		req.Kind, req.Packet = callout.InjectNetworkSend, ipv4TCP(local, remote, data)
	} else {
		fmt.Fprintf(r.w, "  rewriter (receive): %q -> %q, injected with FwpsInjectNetworkReceiveAsync0\n", sp.Data, data)
		req.Kind, req.Packet, req.Interface = callout.InjectNetworkReceive, ipv4TCP(remote, local, data), 7
	}
	if err := meta.Kernel.Inject(req); err != nil {
		r.errors = append(r.errors, err)
	}
	out.Action, out.Flags = wfp.ActionBlock, callout.FlagAbsorb
}

func (r *rewriter) Notify(callout.NotifyType, wfp.FilterKey, *callout.Filter) error { return nil }
func (r *rewriter) FlowDelete(wfp.LayerID, wfp.CalloutID, uint64)                   {}

// app stands for the application: an inspection callout in a lower sublayer
// sees the bytes that flow past the rewriter, i.e. what the socket receives.
func app(w io.Writer) callout.Func {
	return func(_ *callout.IncomingValues, _ *callout.Metadata, layerData any, _ *callout.Filter, _ uint64, out *callout.ClassifyOut) {
		out.Action = wfp.ActionContinue
		if sp, ok := layerData.(*callout.StreamPacket); ok && sp.Flags&callout.StreamFlagReceive != 0 && len(sp.Data) > 0 {
			fmt.Fprintf(w, "  the application receives %q\n", sp.Data)
		}
	}
}

func run(w io.Writer, _ []string) error {
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "crypto"})
	rw := &rewriter{w: w}
	hi := wfp.SublayerKey(wfp.GUIDFromName("sublayer", "rewrite"))
	lo := wfp.SublayerKey(wfp.GUIDFromName("sublayer", "app"))
	for _, sl := range []struct {
		k wfp.SublayerKey
		n string
		w uint16
	}{{hi, "rewrite", 0x8000}, {lo, "app", 0x100}} {
		if err := s.AddSublayer(wfp.Sublayer{Key: sl.k, DisplayData: wfp.DisplayData{Name: sl.n}, Weight: sl.w}); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		name   string
		code   callout.Callout
		sl     wfp.SublayerKey
		action wfp.ActionType
	}{
		{"rewriter", rw, hi, wfp.ActionCalloutTerminating},
		{"app", app(w), lo, wfp.ActionCalloutInspection},
	} {
		key := wfp.CalloutKey(wfp.GUIDFromName("callout", c.name))
		if err := eng.RegisterCallout(key, c.code); err != nil {
			return err
		}
		if _, err := s.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: c.name}, Layer: layers.StreamV4.Key}); err != nil {
			return err
		}
		// Only the connection to port 7000 is rewritten.
		if _, err := s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: c.name}, Layer: layers.StreamV4.Key, Sublayer: c.sl,
			Action:     wfp.Action{Type: c.action, Callout: key},
			Conditions: []wfp.Condition{{Field: layers.ConditionIPRemotePort.Key, Match: wfp.MatchEqual, Value: wfp.Uint16(7000)}},
		}); err != nil {
			return err
		}
	}

	st, err := eng.NewStack(engine.Host{
		Name: "pc",
		Interfaces: []engine.Interface{{Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
	}, engine.StackOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	const me, server = "10.0.0.5:51000", "198.51.100.9:7000"
	st.Send(engine.TCP(me, server, engine.TCPSyn, nil))
	st.Receive(7, engine.TCP(server, me, engine.TCPSyn|engine.TCPAck, nil))
	st.Send(engine.TCP(me, server, engine.TCPAck, nil))

	fmt.Fprintln(w, "the application sends \"attack at dawn\":")
	r := st.Send(engine.TCP(me, server, engine.TCPAck|engine.TCPPsh, []byte("attack at dawn")))
	report(w, r, st.Injections())

	fmt.Fprintln(w, "the server answers \"npxabjyrqtrq\" (it speaks ROT13 too):")
	r = st.Receive(7, engine.TCP(server, me, engine.TCPAck|engine.TCPPsh, []byte("npxabjyrqtrq")))
	report(w, r, st.Injections())
	for _, err := range rw.errors {
		fmt.Fprintf(w, "injection failed: %v\n", err)
	}
	return nil
}

// report prints what became of the original packet and of the injected one.
func report(w io.Writer, r *engine.Result, injected []engine.Injected) {
	fmt.Fprintf(w, "  original packet: %s\n", outcome(r))
	for _, inj := range injected {
		fmt.Fprintf(w, "  injected packet: %q %s\n", inj.Result.Packet.Payload, outcome(inj.Result))
	}
}

func outcome(r *engine.Result) string {
	switch {
	case r.Absorbed:
		return "absorbed (silently dropped) at " + r.DroppedAt.ShortName
	case r.Dropped():
		return "dropped: " + r.Reason
	case r.Direction == wfp.DirectionOutbound:
		return "sent on the wire"
	}
	return "delivered"
}

func rot13(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			c = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			c = 'A' + (c-'A'+13)%26
		}
		out[i] = c
	}
	return out
}

func addr(in *callout.IncomingValues, c *layers.Condition) netip.Addr {
	if f, ok := layers.StreamV4.Field(c.Key); ok && f.Index < len(in.Values) {
		if v, ok := in.Values[f.Index].(wfp.Uint32); ok {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(v))
			return netip.AddrFrom4(b)
		}
	}
	return netip.Addr{}
}

func port(in *callout.IncomingValues, c *layers.Condition) uint16 {
	if f, ok := layers.StreamV4.Field(c.Key); ok && f.Index < len(in.Values) {
		if v, ok := in.Values[f.Index].(wfp.Uint16); ok {
			return uint16(v)
		}
	}
	return 0
}

// ipv4TCP builds an IPv4 packet carrying a TCP segment (PSH, ACK) with payload,
// checksums included (a NET_BUFFER_LIST a driver builds must be a valid packet).
func ipv4TCP(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0], b[8], b[9] = 0x45, 128, 6
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // don't fragment
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:20], 0))
	t := b[20:]
	binary.BigEndian.PutUint16(t[0:], src.Port())
	binary.BigEndian.PutUint16(t[2:], dst.Port())
	t[12], t[13] = 5<<4, engine.TCPPsh|engine.TCPAck
	binary.BigEndian.PutUint16(t[14:], 65535)
	copy(t[20:], payload)
	pseudo := uint32(binary.BigEndian.Uint16(s4[:2])) + uint32(binary.BigEndian.Uint16(s4[2:])) +
		uint32(binary.BigEndian.Uint16(d4[:2])) + uint32(binary.BigEndian.Uint16(d4[2:])) + 6 + uint32(len(t))
	binary.BigEndian.PutUint16(t[16:], checksum(t, pseudo))
	return b
}

// checksum is the Internet checksum (RFC 1071) of b, starting from sum.
func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
