package main

import (
	"log"
	"os"
)

// Example encrypts a stream on the way out and decrypts it on the way in with a STREAM callout that absorbs the original bytes and injects rewritten packets.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// the application sends "attack at dawn":
	//   rewriter (send):    "attack at dawn" -> "nggnpx ng qnja", injected with FwpsInjectNetworkSendAsync0
	//   original packet: absorbed (silently dropped) at STREAM_V4
	//   injected packet: "nggnpx ng qnja" sent on the wire
	// the server answers "npxabjyrqtrq" (it speaks ROT13 too):
	//   rewriter (receive): "npxabjyrqtrq" -> "acknowledged", injected with FwpsInjectNetworkReceiveAsync0
	//   the application receives "acknowledged"
	//   original packet: absorbed (silently dropped) at STREAM_V4
	//   injected packet: "acknowledged" delivered
}
