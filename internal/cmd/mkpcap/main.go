// Command mkpcap writes the small, deterministic captures in testdata/pcap/generated
// that the replay tests and the README use. Every frame is built with gopacket's
// SerializeLayers and written with pcapgo (pcap) or pcapgo.NgWriter (pcapng); fixed
// timestamps, no randomness, so a second run writes the same bytes.
//
//	go run ./internal/cmd/mkpcap -out testdata/pcap/generated
//
// The captures:
//
//	workstation.pcap    Ethernet, a Windows-looking host 192.168.1.20 (and 2001:db8:1::20):
//	                    DNS, HTTP to :80, TLS-looking :443, SMB :445 (handshake, data, FIN),
//	                    ICMP echo, inbound RDP :3389 (listening), inbound :23 (closed: RST),
//	                    IPv6 TCP :443, a UDP datagram in two IPv4 fragments.
//	vlan-qinq.pcap      Ethernet with 802.1Q (VLAN 100) and 802.1ad+802.1Q (QinQ) tags.
//	loopback-null.pcap  NULL link type: AF 2 (IPv4), 23 (Windows IPv6), 24, 28, 30 (BSD IPv6).
//	raw-ip.pcap         RAW (101) IPv4 and IPv6.
//	linux-sll.pcap      LINUX_SLL (113).
//	nano.pcap           nanosecond-resolution pcap.
//	multi.pcapng        pcapng, two interfaces of different link types (Ethernet, RAW).
package main

//go:generate go run . -out ../../../testdata/pcap/generated

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "testdata/pcap/generated", "output `dir`ectory")
	flag.Parse()
	if err := Generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mkpcap:", err)
		os.Exit(1)
	}
}
