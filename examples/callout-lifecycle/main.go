// Command callout-lifecycle registers a callout of its own and prints, in
// order, every call the filter engine makes into it: notifyFn when its filters
// are added and deleted, classifyFn for the traffic its filters match, and
// flowDeleteFn when a flow it attached a context to ends.
//
//	go run ./examples/callout-lifecycle
package main

import (
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
		fmt.Fprintln(os.Stderr, "callout-lifecycle:", err)
		os.Exit(1)
	}
}

// logger is the callout's code: the three functions a driver passes to
// FwpsCalloutRegister. It is registered for two callouts, one at
// ALE_FLOW_ESTABLISHED_V4 and one at STREAM_V4.
type logger struct {
	w          io.Writer
	streamID   wfp.CalloutID // the STREAM callout's runtime id, to attach the context to
	nextCtx    uint64
	layerNames map[wfp.LayerID]string
}

// Classify is classifyFn.
func (l *logger) Classify(in *callout.IncomingValues, meta *callout.Metadata, layerData any, f *callout.Filter, flowContext uint64, out *callout.ClassifyOut) {
	switch in.LayerID {
	case layers.ALEFlowEstablishedV4.ID:
		// A connection is up: keep per-connection state by attaching a context to
		// the flow, for the STREAM layer and the STREAM callout (FwpsFlowAssociateContext0).
		l.nextCtx++
		ctx := 0x1000 + l.nextCtx
		err := meta.Kernel.FlowAssociateContext(meta.FlowHandle, layers.StreamV4.ID, l.streamID, ctx)
		fmt.Fprintf(l.w, "classifyFn   FLOW_ESTABLISHED_V4  flow %d: associate context %#x (err %v)\n", meta.FlowHandle, ctx, err)
	case layers.StreamV4.ID:
		sp := layerData.(*callout.StreamPacket)
		dir := "send"
		if sp.Flags&callout.StreamFlagReceive != 0 {
			dir = "receive"
		}
		fmt.Fprintf(l.w, "classifyFn   STREAM_V4            flow %d: context %#x, %s %q\n", meta.FlowHandle, flowContext, dir, sp.Data)
	}
	out.Action = wfp.ActionContinue
}

// Notify is notifyFn.
func (l *logger) Notify(t callout.NotifyType, key wfp.FilterKey, f *callout.Filter) error {
	fmt.Fprintf(l.w, "notifyFn     %-20s filter #%d\n", t, f.ID)
	return nil
}

// FlowDelete is flowDeleteFn: the flow whose context this callout holds ended.
func (l *logger) FlowDelete(layerID wfp.LayerID, calloutID wfp.CalloutID, flowContext uint64) {
	fmt.Fprintf(l.w, "flowDeleteFn %-20s callout #%d: context %#x is free\n", l.layerNames[layerID], calloutID, flowContext)
}

func run(w io.Writer, _ []string) error {
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "lesson"})
	code := &logger{w: w, layerNames: map[wfp.LayerID]string{
		layers.ALEFlowEstablishedV4.ID: "FLOW_ESTABLISHED_V4", layers.StreamV4.ID: "STREAM_V4"}}

	// The driver registers its code (FwpsCalloutRegister) ...
	flowKey := wfp.CalloutKey(wfp.GUIDFromName("callout", "lesson-flow"))
	streamKey := wfp.CalloutKey(wfp.GUIDFromName("callout", "lesson-stream"))
	for _, k := range []wfp.CalloutKey{flowKey, streamKey} {
		if err := eng.RegisterCallout(k, code); err != nil {
			return err
		}
	}
	// ... and adds the management objects (FwpmCalloutAdd0) and its filters
	// (FwpmFilterAdd0): each filter add calls notifyFn.
	fmt.Fprintln(w, "-- adding the callouts and their filters")
	if _, err := s.AddCallout(wfp.Callout{Key: flowKey, DisplayData: wfp.DisplayData{Name: "lesson flow"}, Layer: layers.ALEFlowEstablishedV4.Key}); err != nil {
		return err
	}
	streamID, err := s.AddCallout(wfp.Callout{Key: streamKey, DisplayData: wfp.DisplayData{Name: "lesson stream"}, Layer: layers.StreamV4.Key})
	if err != nil {
		return err
	}
	code.streamID = streamID
	var filterKeys []wfp.FilterKey
	for _, f := range []struct {
		l *layers.Layer
		k wfp.CalloutKey
	}{{layers.ALEFlowEstablishedV4, flowKey}, {layers.StreamV4, streamKey}} {
		key := wfp.FilterKey(wfp.GUIDFromName("filter", "lesson-"+f.l.ShortName))
		filterKeys = append(filterKeys, key)
		if _, err := s.AddFilter(wfp.Filter{Key: key, DisplayData: wfp.DisplayData{Name: "lesson " + f.l.ShortName},
			Layer: f.l.Key, Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: f.k}}); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "-- one HTTP connection")
	st, err := eng.NewStack(engine.Host{
		Name: "lesson",
		Interfaces: []engine.Interface{{Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
	}, engine.StackOptions{})
	if err != nil {
		return err
	}
	const me, server = "10.0.0.5:51000", "93.184.216.34:80"
	st.Send(engine.TCP(me, server, engine.TCPSyn, nil))
	st.Receive(7, engine.TCP(server, me, engine.TCPSyn|engine.TCPAck, nil))
	st.Send(engine.TCP(me, server, engine.TCPAck, nil))
	st.Send(engine.TCP(me, server, engine.TCPAck|engine.TCPPsh, []byte("GET / HTTP/1.1\r\n\r\n")))
	st.Receive(7, engine.TCP(server, me, engine.TCPAck|engine.TCPPsh, []byte("HTTP/1.1 200 OK\r\n\r\n")))
	fmt.Fprintln(w, "-- the connection closes (FIN both ways)")
	st.Send(engine.TCP(me, server, engine.TCPAck|engine.TCPFin, nil))
	st.Receive(7, engine.TCP(server, me, engine.TCPAck|engine.TCPFin, nil))
	st.Send(engine.TCP(me, server, engine.TCPAck, nil))
	st.Close()

	fmt.Fprintln(w, "-- deleting the filters (the driver unloads)")
	for _, k := range filterKeys {
		if err := s.DeleteFilter(k); err != nil {
			return err
		}
	}
	return nil
}
