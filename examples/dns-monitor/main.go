// Command dns-monitor logs every DNS query a machine sends, with an inspection
// callout at FWPM_LAYER_DATAGRAM_DATA_V4/V6 (callout.DNSLogger), over a capture.
//
//	go run ./examples/dns-monitor [CAPTURE [HOST.yaml]]
//
// With a CAPTURE and no HOST.yaml, the host is inferred from the capture.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dns-monitor:", err)
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
	if len(args) > 0 {
		hostFile := "" // another capture: infer its host
		if len(args) > 1 {
			hostFile = args[1]
		}
		return monitor(w, args[0], hostFile)
	}
	// The bundled workstation capture with its host file, then a real capture
	// (zeek's, two interfaces) whose host is inferred.
	if err := monitor(w, find("testdata/pcap/generated/workstation.pcap"), find("testdata/hosts/workstation.yaml")); err != nil {
		return err
	}
	return monitor(w, find("testdata/pcap/captured/zeek-pcapng-multi-interface.pcapng"), "")
}

// monitor replays a capture with the DNS logger registered and prints the queries.
func monitor(w io.Writer, capture, hostFile string) error {
	var host *engine.Host
	if hostFile != "" {
		var err error
		if host, err = replay.LoadHost(hostFile); err != nil {
			return err
		}
	}
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "dns-monitor"})
	logger := callout.NewDNSLogger(nil)
	for _, l := range []*layers.Layer{layers.DatagramDataV4, layers.DatagramDataV6} {
		key := wfp.CalloutKey(wfp.GUIDFromName("callout", "dns-"+l.ShortName))
		if err := eng.RegisterCallout(key, logger); err != nil {
			return err
		}
		if _, err := s.AddCallout(wfp.Callout{Key: key, DisplayData: wfp.DisplayData{Name: "dns logger"}, Layer: l.Key}); err != nil {
			return err
		}
		// Conditions keep the callout off every other datagram: the engine calls
		// it for UDP to or from port 53 only. An inspection callout never
		// changes a verdict (rule A8).
		if _, err := s.AddFilter(wfp.Filter{
			DisplayData: wfp.DisplayData{Name: "dns " + l.ShortName},
			Layer:       l.Key,
			Action:      wfp.Action{Type: wfp.ActionCalloutInspection, Callout: key},
			Conditions: []wfp.Condition{
				{Field: layers.ConditionIPProtocol.Key, Match: wfp.MatchEqual, Value: wfp.Uint8(17)},
				{Field: layers.ConditionIPRemotePort.Key, Match: wfp.MatchEqual, Value: wfp.Uint16(53)},
			},
		}); err != nil {
			return err
		}
	}

	r := replay.New(eng, replay.Options{Host: host})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	err := r.Replay(capture, func(*replay.PacketResult) error { return nil },
		func(p replay.Problem) { fmt.Fprintf(w, "problem: %s\n", p) })
	r.Stack().Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "DNS queries seen in %s:\n", filepath.Base(capture))
	for _, q := range logger.Queries() {
		fmt.Fprintf(w, "  flow %d: %s\n", q.FlowHandle, q)
	}
	fmt.Fprintf(w, "malformed port-53 datagrams: %d\n", logger.Malformed())
	return nil
}
