package main

import (
	"log"
	"os"
)

// Example prints every call the engine makes into a callout: notifyFn, classifyFn with a flow context, flowDeleteFn.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// -- adding the callouts and their filters
	// notifyFn     FWPS_CALLOUT_NOTIFY_ADD_FILTER filter #1
	// notifyFn     FWPS_CALLOUT_NOTIFY_ADD_FILTER filter #2
	// -- one HTTP connection
	// classifyFn   FLOW_ESTABLISHED_V4  flow 1: associate context 0x1001 (err <nil>)
	// classifyFn   STREAM_V4            flow 1: context 0x1001, send "GET / HTTP/1.1\r\n\r\n"
	// classifyFn   STREAM_V4            flow 1: context 0x1001, receive "HTTP/1.1 200 OK\r\n\r\n"
	// -- the connection closes (FIN both ways)
	// flowDeleteFn STREAM_V4            callout #2: context 0x1001 is free
	// -- deleting the filters (the driver unloads)
	// notifyFn     FWPS_CALLOUT_NOTIFY_DELETE_FILTER filter #1
	// notifyFn     FWPS_CALLOUT_NOTIFY_DELETE_FILTER filter #2
}
