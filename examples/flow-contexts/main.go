// Command flow-contexts replays the bundled workstation capture through a host
// with a connection tracker (callout.ConnTracker) registered at
// ALE_FLOW_ESTABLISHED and the data layers, and prints what it kept per
// connection in its flow contexts.
//
//	go run ./examples/flow-contexts [CAPTURE [HOST.yaml]]
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flow-contexts:", err)
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
	s := eng.Open(wfp.SessionOptions{Name: "tracker"})
	tracker := callout.NewConnTracker()
	// One callout per layer, all with the tracker's code: FLOW_ESTABLISHED creates
	// the context, the data layers receive it. Deliver tells the tracker which
	// callout (by runtime id) receives the context at each data layer.
	for _, l := range []*layers.Layer{
		layers.ALEFlowEstablishedV4, layers.ALEFlowEstablishedV6,
		layers.StreamV4, layers.StreamV6, layers.DatagramDataV4, layers.DatagramDataV6,
	} {
		key := wfp.CalloutKey(wfp.GUIDFromName("callout", "tracker-"+l.ShortName))
		if err := eng.RegisterCallout(key, tracker); err != nil {
			return err
		}
		id, err := s.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: "tracker " + l.ShortName}, Layer: l.Key})
		if err != nil {
			return err
		}
		if _, err := s.AddFilter(wfp.Filter{DisplayData: wfp.DisplayData{Name: "track " + l.ShortName}, Layer: l.Key,
			Action: wfp.Action{Type: wfp.ActionCalloutInspection, Callout: key}}); err != nil {
			return err
		}
		if l != layers.ALEFlowEstablishedV4 && l != layers.ALEFlowEstablishedV6 {
			tracker.Deliver(l, id)
		}
	}

	r := replay.New(eng, replay.Options{Host: host})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	packets := 0
	if err := r.Replay(capture, func(pr *replay.PacketResult) error {
		if !pr.Skipped {
			packets++
		}
		return nil
	}, func(p replay.Problem) { fmt.Fprintf(w, "problem: %s\n", p) }); err != nil {
		return err
	}
	fmt.Fprintf(w, "replayed %d packets of %s\n", packets, filepath.Base(capture))
	ended := len(tracker.Done())
	fmt.Fprintf(w, "ended during the capture: %d, still open at its end: %d\n", ended, len(tracker.Live()))
	r.Stack().Close() // the host shuts down: every flow ends, flowDeleteFn runs for the rest
	fmt.Fprintln(w, "connections, in the order flowDeleteFn reported them:")
	for i, c := range tracker.Done() {
		how := "FIN/RST"
		if i >= ended {
			how = "close"
		}
		fmt.Fprintf(w, "  ctx %#x %-7s %-4s %-22s -> %-20s segs %d, out %dB, in %dB, %s\n",
			c.Context, how, proto(c.Protocol), c.Local, c.Remote, c.Segments, c.BytesOut, c.BytesIn, program(c.ProcessPath))
	}
	for _, err := range tracker.Errors() {
		fmt.Fprintf(w, "error: %v\n", err)
	}
	return nil
}

// program is the file name of an NT path (\device\...\firefox.exe).
func program(path string) string {
	if path == "" {
		return "(no process)"
	}
	return path[strings.LastIndexByte(path, '\\')+1:]
}

func proto(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	}
	return fmt.Sprint(p)
}
