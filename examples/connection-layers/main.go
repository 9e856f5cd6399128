// Command connection-layers sends one TCP connection through a simulated
// Windows host with no filters at all and prints the WFP layers each packet is
// classified at: the ALE layers (once per connection), the stream and transport
// layers, the network (IP packet) layers and the MAC layers.
//
//	go run ./examples/connection-layers
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "connection-layers:", err)
		os.Exit(1)
	}
}

// host is a workstation with one Ethernet interface and a browser that owns
// the client socket.
func host() engine.Host {
	return engine.Host{
		Name: "workstation",
		Interfaces: []engine.Interface{{
			Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet, Ethernet: true,
			MAC:   mac(0x03),
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.1.20/24")},
		}},
		Processes: []engine.Process{{PID: 6120, Image: `C:\Program Files\Mozilla Firefox\firefox.exe`,
			User: wfp.MustParseSID("S-1-5-21-1004336348-1177238915-682003330-1001")}},
		Sockets: []engine.Socket{{Protocol: 6, Local: netip.MustParseAddrPort("192.168.1.20:49701"), PID: 6120}},
	}
}

func mac(last byte) [6]byte { return [6]byte{0x00, 0x15, 0x5d, 0x01, 0x02, last} }

func run(w io.Writer, _ []string) error {
	// An engine with no filters of ours: every layer permits by default, and we
	// only watch where the stack classifies.
	eng := engine.New(engine.Options{})
	st, err := eng.NewStack(host(), engine.StackOptions{})
	if err != nil {
		return err
	}
	defer st.Close()

	const me, server = "192.168.1.20:49701", "93.184.216.34:80"
	local, gateway := mac(0x03), mac(0x01)
	out := func(flags uint8, data string) *engine.Packet {
		return engine.TCP(me, server, flags, []byte(data)).WithEthernet(local, gateway, 0)
	}
	in := func(flags uint8, data string) *engine.Packet {
		return engine.TCP(server, me, flags, []byte(data)).WithEthernet(gateway, local, 0)
	}
	steps := []struct {
		what string
		send bool
		p    *engine.Packet
	}{
		{"SYN (connect)", true, out(engine.TCPSyn, "")},
		{"SYN-ACK", false, in(engine.TCPSyn|engine.TCPAck, "")},
		{"ACK", true, out(engine.TCPAck, "")},
		{"GET request", true, out(engine.TCPAck|engine.TCPPsh, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")},
		{"response", false, in(engine.TCPAck|engine.TCPPsh, "HTTP/1.1 200 OK\r\n\r\nhello")},
		{"FIN", true, out(engine.TCPAck|engine.TCPFin, "")},
	}
	for _, s := range steps {
		var r *engine.Result
		if s.send {
			r = st.Send(s.p)
		} else {
			r = st.Receive(7, s.p)
		}
		fmt.Fprintf(w, "%s %s: %s\n", r.Direction, s.what, r.Packet)
		for _, step := range r.Steps {
			fmt.Fprintf(w, "  %-9s %s\n", group(step.Layer.ShortName), step.Layer.ShortName)
		}
	}
	return nil
}

// group names the part of the stack a layer belongs to.
func group(layer string) string {
	switch {
	case strings.HasPrefix(layer, "ALE_"):
		return "ALE"
	case strings.HasPrefix(layer, "STREAM"):
		return "stream"
	case strings.Contains(layer, "TRANSPORT"), strings.HasPrefix(layer, "DATAGRAM"):
		return "transport"
	case strings.Contains(layer, "IPPACKET"), strings.Contains(layer, "IPFORWARD"):
		return "network"
	case strings.Contains(layer, "MAC_FRAME"):
		return "MAC"
	}
	return "other"
}
