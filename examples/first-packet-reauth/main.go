// Command first-packet-reauth shows that only a connection's first packet is
// authorized at ALE, that later packets are matched to the flow and skip ALE,
// and that a policy change at the ALE layer makes the engine reauthorize the
// flow on its next packet.
//
//	go run ./examples/first-packet-reauth
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/layers"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "first-packet-reauth:", err)
		os.Exit(1)
	}
}

const me, server = "10.0.0.5:51000", "93.184.216.34:443"

func run(w io.Writer, _ []string) error {
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "admin"})
	st, err := eng.NewStack(engine.Host{
		Name: "pc",
		Interfaces: []engine.Interface{{Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}}},
	}, engine.StackOptions{})
	if err != nil {
		return err
	}
	defer st.Close()

	out := func(what string, flags uint8, data string) {
		show(w, what, st.Send(engine.TCP(me, server, flags, []byte(data))))
	}
	in := func(what string, flags uint8, data string) {
		show(w, what, st.Receive(7, engine.TCP(server, me, flags, []byte(data))))
	}

	fmt.Fprintln(w, "-- no filter: the connection opens")
	out("SYN", engine.TCPSyn, "")
	in("SYN-ACK", engine.TCPSyn|engine.TCPAck, "")
	out("ACK", engine.TCPAck, "")
	out("request", engine.TCPAck|engine.TCPPsh, "GET / HTTP/1.1\r\n\r\n")
	in("response", engine.TCPAck|engine.TCPPsh, "HTTP/1.1 200 OK\r\n\r\n")

	fmt.Fprintln(w, "-- the admin adds a block for the server at ALE_AUTH_CONNECT_V4, mid-flow")
	if _, err := s.AddFilter(wfp.Filter{
		DisplayData: wfp.DisplayData{Name: "block-server"},
		Layer:       layers.ALEAuthConnectV4.Key,
		Action:      wfp.Action{Type: wfp.ActionBlock},
		Conditions: []wfp.Condition{{Field: layers.ConditionIPRemoteAddress.Key, Match: wfp.MatchEqual,
			Value: wfp.Uint32(0x5db8d822)}}, // 93.184.216.34 as FWP_UINT32
	}); err != nil {
		return err
	}
	out("request", engine.TCPAck|engine.TCPPsh, "GET /more HTTP/1.1\r\n\r\n")
	in("response", engine.TCPAck|engine.TCPPsh, "HTTP/1.1 200 OK\r\n\r\n")

	fmt.Fprintln(w, "-- a new connection to the server")
	show(w, "SYN", st.Send(engine.TCP("10.0.0.5:51001", server, engine.TCPSyn, nil)))
	return nil
}

// show prints a packet's verdict and, when it met an ALE layer, why.
func show(w io.Writer, what string, r *engine.Result) {
	verdict := "passes"
	if r.Dropped() {
		verdict = "DROPPED"
	}
	var ale []string
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Layer.ShortName, "ALE_") && !s.Layer.Discard {
			ale = append(ale, fmt.Sprintf("%s %s (%s)", s.Layer.ShortName, s.Decision.Action.ShortName(), s.Note))
		}
	}
	fmt.Fprintf(w, "%-8s %-8s %-7s", r.Direction, what, verdict)
	switch {
	case len(ale) == 0 && r.Flow != nil:
		fmt.Fprint(w, " no ALE layer: the flow is known")
	case len(ale) == 0:
		fmt.Fprint(w, " no ALE layer")
	}
	for i, a := range ale {
		if i > 0 {
			fmt.Fprintf(w, "\n%25s", "")
		}
		fmt.Fprint(w, " ", a)
	}
	if r.Dropped() {
		fmt.Fprintf(w, "\n%25s %s", "", r.Reason)
	}
	fmt.Fprintln(w)
}
