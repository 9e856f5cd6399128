package main

import (
	"log"
	"os"
)

// Example replays testdata/pcap/generated/workstation.pcap against the keploy
// machine's 1244 importable filters, then with a new block rule, then with a
// hard permit that another vendor installed in a higher sublayer.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// the machine as dumped:
	//   tcp 192.168.1.20:49701 -> 93.184.216.34:80   permit ALE_AUTH_CONNECT_V4: soft permit by "Default Outbound"
	//   tcp 192.168.1.20:49702 -> 93.184.216.34:443  permit ALE_AUTH_CONNECT_V4: soft permit by "Default Outbound"
	// the machine + my block rule:
	//   tcp 192.168.1.20:49701 -> 93.184.216.34:80   BLOCK  ALE_AUTH_CONNECT_V4: hard block by "block-example-com"
	//   tcp 192.168.1.20:49702 -> 93.184.216.34:443  BLOCK  ALE_AUTH_CONNECT_V4: hard block by "block-example-com"
	// the machine + Contoso's hard permit + my block rule:
	//   tcp 192.168.1.20:49701 -> 93.184.216.34:80   BLOCK  ALE_AUTH_CONNECT_V4: hard block by "block-example-com"
	//   tcp 192.168.1.20:49702 -> 93.184.216.34:443  permit ALE_AUTH_CONNECT_V4: hard permit by "contoso-allow-https"
}
