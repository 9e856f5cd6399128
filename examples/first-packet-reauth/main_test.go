package main

import (
	"log"
	"os"
)

// Example opens a connection, adds a block mid-flow and prints which packets meet ALE: the first, then the reauthorization.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// -- no filter: the connection opens
	// outbound SYN      passes  ALE_RESOURCE_ASSIGNMENT_V4 permit (bind: resource assignment (rule C2))
	//                           ALE_AUTH_CONNECT_V4 permit (connect(): no packet is attached (rule C2))
	// inbound  SYN-ACK  passes  ALE_FLOW_ESTABLISHED_V4 permit (flow established (rule D3))
	// outbound ACK      passes  no ALE layer: the flow is known
	// outbound request  passes  no ALE layer: the flow is known
	// inbound  response passes  no ALE layer: the flow is known
	// -- the admin adds a block for the server at ALE_AUTH_CONNECT_V4, mid-flow
	// outbound request  DROPPED ALE_AUTH_CONNECT_V4 block (reauthorization: the policy at this layer changed (rule D2))
	//                           ALE_ENDPOINT_CLOSURE_V4 permit (endpoint closure: reauthorization blocked it (rule C8))
	//                           ALE_RESOURCE_RELEASE_V4 permit (resource release: its last flow ended (rule C8))
	//                           blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-server"; the flow is torn down (rule C12)
	// inbound  response DROPPED no ALE layer
	//                           no connection: a TCP segment with no TCB (not a SYN)
	// -- a new connection to the server
	// outbound SYN      DROPPED ALE_RESOURCE_ASSIGNMENT_V4 permit (bind: resource assignment (rule C2))
	//                           ALE_AUTH_CONNECT_V4 block (connect(): no packet is attached (rule C2))
	//                           ALE_ENDPOINT_CLOSURE_V4 permit (endpoint closure: its connection was blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 (rule C8))
	//                           blocked at FWPM_LAYER_ALE_AUTH_CONNECT_V4 by filter "block-server"
}
