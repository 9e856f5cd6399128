package main

import (
	"log"
	"os"
)

// Example replays workstation.pcap with a ConnTracker and prints what each connection's flow context counted.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// replayed 51 packets of workstation.pcap
	// ended during the capture: 5, still open at its end: 3
	// connections, in the order flowDeleteFn reported them:
	//   ctx 0x2 FIN/RST tcp  192.168.1.20:49701     -> 93.184.216.34:80     segs 2, out 105B, in 86B, firefox.exe
	//   ctx 0x3 FIN/RST tcp  192.168.1.20:49702     -> 93.184.216.34:443    segs 2, out 17B, in 17B, firefox.exe
	//   ctx 0x4 FIN/RST tcp  192.168.1.20:49703     -> 192.168.1.10:445     segs 2, out 20B, in 20B, ntoskrnl.exe
	//   ctx 0x6 FIN/RST tcp  192.168.1.20:3389      -> 192.168.1.50:51000   segs 1, out 0B, in 19B, svchost.exe
	//   ctx 0x7 FIN/RST tcp  [2001:db8:1::20]:49704 -> [2001:db8::443]:443  segs 2, out 17B, in 17B, firefox.exe
	//   ctx 0x1 close   udp  192.168.1.20:50000     -> 192.168.1.1:53       segs 2, out 29B, in 45B, svchost.exe
	//   ctx 0x5 close   icmp 192.168.1.20:8         -> 8.8.8.8:0            segs 2, out 32B, in 40B, (no process)
	//   ctx 0x8 close   udp  192.168.1.20:50001     -> 192.168.1.10:9000    segs 1, out 2000B, in 0B, ntoskrnl.exe
}
