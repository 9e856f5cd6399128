package main

import (
	"log"
	"os"
)

// Example replays workstation.pcap against rules naming an application and a user, and prints who owned each outbound flow and its verdict.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// udp 192.168.1.20:50000 -> 192.168.1.1:53
	//     svchost.exe as S-1-5-20 (NetworkService): BLOCK by block-the-rest
	// tcp 192.168.1.20:49701 -> 93.184.216.34:80
	//     firefox.exe as S-1-5-21-1004336348-1177238915-682003330-1001 (a local user): permit by permit-firefox
	// tcp 192.168.1.20:49702 -> 93.184.216.34:443
	//     firefox.exe as S-1-5-21-1004336348-1177238915-682003330-1001 (a local user): permit by permit-firefox
	// tcp 192.168.1.20:49703 -> 192.168.1.10:445
	//     ntoskrnl.exe as S-1-5-18 (LocalSystem): permit by permit-system-to-lan
	// icmp 192.168.1.20 -> 8.8.8.8
	//     no process: BLOCK by block-the-rest
	// udp 192.168.1.20 -> 192.168.1.10 fragment id 0x5151 offset 1480
	//     ntoskrnl.exe as S-1-5-18 (LocalSystem): permit by permit-system-to-lan
}
