package main

import (
	"log"
	"os"
)

// Example replays workstation.pcap: the DNS answer for example.com adds a block filter, and the connections that follow are blocked.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// packet  1  udp 192.168.1.20:50000 -> 192.168.1.1:53 permit
	// packet  2  DNS answer: example.com is 93.184.216.34 -> block filter added at ALE_AUTH_CONNECT_V4
	// packet  3  tcp 192.168.1.20:49701 -> 93.184.216.34:80 BLOCK by block example.com 93.184.216.34
	// packet 12  tcp 192.168.1.20:49702 -> 93.184.216.34:443 BLOCK by block example.com 93.184.216.34
	// packet 21  tcp 192.168.1.20:49703 -> 192.168.1.10:445 permit
	// packet 30  icmp 192.168.1.20 -> 8.8.8.8             permit
	// packet 41  tcp [2001:db8:1::20]:49704 -> [2001:db8::443]:443 permit
	// packet 51  udp 192.168.1.20 -> 192.168.1.10 fragment id 0x5151 offset 1480 permit
}
