package main

import (
	"log"
	"os"
)

// Example sends a TCP connection through a host with no filters and prints the layers each packet meets.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// outbound SYN (connect): tcp 192.168.1.20:49701 > 93.184.216.34:80 [S] len 0
	//   ALE       ALE_RESOURCE_ASSIGNMENT_V4
	//   ALE       ALE_AUTH_CONNECT_V4
	//   stream    STREAM_PACKET_V4
	//   transport OUTBOUND_TRANSPORT_V4
	//   network   OUTBOUND_IPPACKET_V4
	//   MAC       OUTBOUND_MAC_FRAME_ETHERNET
	// inbound SYN-ACK: tcp 93.184.216.34:80 > 192.168.1.20:49701 [S.] len 0
	//   MAC       INBOUND_MAC_FRAME_ETHERNET
	//   network   INBOUND_IPPACKET_V4
	//   transport INBOUND_TRANSPORT_V4
	//   ALE       ALE_FLOW_ESTABLISHED_V4
	//   stream    STREAM_PACKET_V4
	// outbound ACK: tcp 192.168.1.20:49701 > 93.184.216.34:80 [.] len 0
	//   stream    STREAM_PACKET_V4
	//   transport OUTBOUND_TRANSPORT_V4
	//   network   OUTBOUND_IPPACKET_V4
	//   MAC       OUTBOUND_MAC_FRAME_ETHERNET
	// outbound GET request: tcp 192.168.1.20:49701 > 93.184.216.34:80 [P.] len 37
	//   stream    STREAM_V4
	//   stream    STREAM_PACKET_V4
	//   transport OUTBOUND_TRANSPORT_V4
	//   network   OUTBOUND_IPPACKET_V4
	//   MAC       OUTBOUND_MAC_FRAME_ETHERNET
	// inbound response: tcp 93.184.216.34:80 > 192.168.1.20:49701 [P.] len 24
	//   MAC       INBOUND_MAC_FRAME_ETHERNET
	//   network   INBOUND_IPPACKET_V4
	//   transport INBOUND_TRANSPORT_V4
	//   stream    STREAM_PACKET_V4
	//   stream    STREAM_V4
	// outbound FIN: tcp 192.168.1.20:49701 > 93.184.216.34:80 [F.] len 0
	//   stream    STREAM_PACKET_V4
	//   transport OUTBOUND_TRANSPORT_V4
	//   network   OUTBOUND_IPPACKET_V4
	//   MAC       OUTBOUND_MAC_FRAME_ETHERNET
}
