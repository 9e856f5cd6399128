package main

import (
	"log"
	"os"
)

// Example logs the DNS queries of two captures with callout.DNSLogger at DATAGRAM_DATA.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// DNS queries seen in workstation.pcap:
	//   flow 1: outbound query A example.com (id 0x1234)
	// malformed port-53 datagrams: 0
	// DNS queries seen in zeek-pcapng-multi-interface.pcapng:
	//   flow 1: outbound query A google.com (id 0x0004)
	//   flow 2: outbound query AAAA google.com (id 0x0005)
	// malformed port-53 datagrams: 0
}
