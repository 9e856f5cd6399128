package main

import (
	"log"
	"os"
)

// Example classifies connections to several ports against five filters of one sublayer and prints the evaluation order and each verdict.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// evaluation order (effective weight, filter):
	//   0xffff000000000000  permit-8443-exact
	//   0xa002fffffffffffd  permit-web
	//   0x5001fffffffffffc  block-high-ports
	//   0x2001fffffffffffb  permit-8080
	//   0x0001fffffffffff9  block-other-tcp
	// connections:
	//   tcp :80    permit by permit-web
	//   tcp :443   permit by permit-web
	//   udp :443   permit no filter matched: default permit
	//   tcp :22    BLOCK  by block-other-tcp
	//   tcp :5000  BLOCK  by block-high-ports
	//   tcp :8080  BLOCK  by block-high-ports
	//   tcp :8443  permit by permit-8443-exact
}
