package main

import (
	"log"
	"os"
)

// Example replays workstation.pcap with a watcher at the endpoint layers and prints each endpoint's life.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 7 endpoints in workstation.pcap, by TRANSPORT_ENDPOINT_HANDLE:
	//   h1  udp 192.168.1.20:50000 -> 192.168.1.1:53
	//       RESOURCE_ASSIGNMENT #1, AUTH_CONNECT #1, ENDPOINT_CLOSURE at shutdown, RESOURCE_RELEASE at shutdown
	//   h2  tcp 192.168.1.20:49701 -> 93.184.216.34:80
	//       RESOURCE_ASSIGNMENT #3, AUTH_CONNECT #3, ENDPOINT_CLOSURE #11, RESOURCE_RELEASE #11
	//   h3  tcp 192.168.1.20:49702 -> 93.184.216.34:443
	//       RESOURCE_ASSIGNMENT #12, AUTH_CONNECT #12, ENDPOINT_CLOSURE #20, RESOURCE_RELEASE #20
	//   h4  tcp 192.168.1.20:49703 -> 192.168.1.10:445
	//       RESOURCE_ASSIGNMENT #21, AUTH_CONNECT #21, ENDPOINT_CLOSURE #29, RESOURCE_RELEASE #29
	//   h5  tcp 192.168.1.20:3389 -> 192.168.1.50:51000
	//       AUTH_RECV_ACCEPT #32, ENDPOINT_CLOSURE #38
	//   h6  tcp [2001:db8:1::20]:49704 -> [2001:db8::443]:443
	//       RESOURCE_ASSIGNMENT #41, AUTH_CONNECT #41, ENDPOINT_CLOSURE #49, RESOURCE_RELEASE #49
	//   h7  udp 192.168.1.20:50001 -> 192.168.1.10:9000
	//       RESOURCE_ASSIGNMENT #51, AUTH_CONNECT #51, ENDPOINT_CLOSURE at shutdown, RESOURCE_RELEASE at shutdown
}
