// Command vpn-kill-switch applies the bundled kill-switch policy
// (testdata/policies/kill-switch.yaml) to a laptop with an Ethernet adapter and
// a VPN tunnel adapter, opens a series of connections and prints which leave
// the machine and which filter decided.
//
//	go run ./examples/vpn-kill-switch [POLICY.yaml]
package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vpn-kill-switch:", err)
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

// laptop has a LAN adapter and, while the VPN is up, the VPN client's tunnel
// adapter, whose LUID (0x0083...: IF_TYPE_TUNNEL 131 in the top 16 bits) the
// policy names. A full-tunnel VPN makes the tunnel the default route: what goes
// through it is sent from the tunnel's address (sourceFor). A local service listens
// on 127.0.0.1:8080.
func laptop(tunnelUp bool) engine.Host {
	h := engine.Host{
		Name: "laptop",
		Interfaces: []engine.Interface{
			{Index: 7, LUID: 0x0006000007000000, Name: "Ethernet", Type: engine.IfTypeEthernet,
				Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.1.20/24")}},
		},
		Processes: []engine.Process{{PID: 900, Image: `C:\Program Files\Local\service.exe`}},
		Sockets:   []engine.Socket{{Protocol: 6, Local: netip.MustParseAddrPort("127.0.0.1:8080"), PID: 900, Listen: true}},
	}
	if tunnelUp {
		tunnel := engine.Interface{Index: 12, LUID: 0x0083000000000000, Name: "Contoso VPN", Type: engine.IfTypeTunnel,
			Addrs: []netip.Prefix{netip.MustParsePrefix("10.8.0.2/24")}}
		h.Interfaces = append([]engine.Interface{tunnel}, h.Interfaces...)
	}
	return h
}

// connection is one connection the laptop opens.
type connection struct {
	what     string
	proto    string
	src, dst string
}

var connections = []connection{
	{"web (HTTPS)", "tcp", "192.168.1.20:50001", "93.184.216.34:443"},
	{"the VPN server itself", "udp", "192.168.1.20:50003", "198.51.100.7:1194"},
	{"a printer on the LAN", "tcp", "192.168.1.20:50004", "192.168.1.30:9100"},
	{"a file server on 10/8", "tcp", "192.168.1.20:50005", "10.1.2.3:445"},
	{"DNS, public resolver", "udp", "192.168.1.20:50006", "8.8.8.8:53"},
	{"DNS, the tunnel's resolver", "udp", "192.168.1.20:50007", "10.8.0.1:53"},
	{"a local service (loopback)", "tcp", "127.0.0.1:50008", "127.0.0.1:8080"},
}

// sourceFor is the address a connection is sent from. Windows picks the source address
// of the route to the destination, and sends in the strong host model: a packet leaves
// by the interface that owns its source address. With the tunnel up, everything but
// the LAN, the VPN server and loopback routes through the tunnel, so it is sent from the
// tunnel's address 10.8.0.2; with the tunnel down, from the Ethernet address.
func sourceFor(c connection, up bool) string {
	src := netip.MustParseAddrPort(c.src)
	dst := netip.MustParseAddrPort(c.dst).Addr()
	lan := netip.MustParsePrefix("192.168.1.0/24")
	vpnServer := netip.MustParseAddr("198.51.100.7")
	if !up || src.Addr().IsLoopback() || lan.Contains(dst) || dst == vpnServer {
		return c.src
	}
	return netip.AddrPortFrom(netip.MustParseAddr("10.8.0.2"), src.Port()).String()
}

func run(w io.Writer, args []string) error {
	file := find("testdata/policies/kill-switch.yaml")
	if len(args) > 0 {
		file = args[0]
	}
	doc, err := policy.Load(file)
	if err != nil {
		return err
	}
	eng := engine.New(engine.Options{})
	if _, err := policy.Apply(eng.Open(wfp.SessionOptions{Name: "vpn"}), doc); err != nil {
		return err
	}
	for _, up := range []bool{true, false} {
		if up {
			fmt.Fprintln(w, "the tunnel is up (default route through it):")
		} else {
			fmt.Fprintln(w, "the tunnel is down (the default route falls back to Ethernet):")
		}
		st, err := eng.NewStack(laptop(up), engine.StackOptions{})
		if err != nil {
			return err
		}
		for _, c := range connections {
			src := sourceFor(c, up)
			var p *engine.Packet
			if c.proto == "tcp" {
				p = engine.TCP(src, c.dst, engine.TCPSyn, nil)
			} else {
				p = engine.UDP(src, c.dst, []byte("hello"))
			}
			r := st.Send(p)
			verdict := "passes "
			if r.Dropped() {
				verdict = "BLOCKED"
			}
			by := "no filter decided"
			for _, s := range r.Steps {
				if s.Layer.ShortName == "ALE_AUTH_CONNECT_V4" && s.Decision.Decided {
					by = s.Decision.FilterName
				}
			}
			fmt.Fprintf(w, "  %-27s %s %-21s %s  %s\n", c.what, c.proto, c.dst, verdict, by)
		}
		st.Close()
	}
	return nil
}
