package main

import (
	"log"
	"os"
)

// Example opens the same connections with the VPN tunnel up and down under the kill-switch policy and prints which pass.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// the tunnel is up (default route through it):
	//   web (HTTPS)                 tcp 93.184.216.34:443     passes   allow-tunnel-interface
	//   the VPN server itself       udp 198.51.100.7:1194     passes   allow-vpn-server
	//   a printer on the LAN        tcp 192.168.1.30:9100     passes   allow-lan
	//   a file server on 10/8       tcp 10.1.2.3:445          passes   allow-tunnel-interface
	//   DNS, public resolver        udp 8.8.8.8:53            passes   allow-tunnel-interface
	//   DNS, the tunnel's resolver  udp 10.8.0.1:53           passes   allow-tunnel-interface
	//   a local service (loopback)  tcp 127.0.0.1:8080        passes   allow-loopback
	// the tunnel is down (the default route falls back to Ethernet):
	//   web (HTTPS)                 tcp 93.184.216.34:443     BLOCKED  block-everything-else
	//   the VPN server itself       udp 198.51.100.7:1194     passes   allow-vpn-server
	//   a printer on the LAN        tcp 192.168.1.30:9100     passes   allow-lan
	//   a file server on 10/8       tcp 10.1.2.3:445          passes   allow-lan
	//   DNS, public resolver        udp 8.8.8.8:53            BLOCKED  block-other-dns
	//   DNS, the tunnel's resolver  udp 10.8.0.1:53           passes   allow-lan
	//   a local service (loopback)  tcp 127.0.0.1:8080        passes   allow-loopback
}
