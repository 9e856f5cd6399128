package main

import (
	"log"
	"os"
)

// Example arbitrates one connection between two sublayers in four combinations of soft and hard permits, blocks and a callout veto.
func Example() {
	if err := run(os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1. soft permit (high) + block (low)
	//   sublayer high:  sets the action: permit (soft)
	//   sublayer low:   sets the action: block (hard)
	//   => block (hard) by low-block
	// 2. hard permit (high) + block (low)
	//   sublayer high:  sets the action: permit (hard)
	//   sublayer low:   ignored: the action is already hard
	//   => permit (hard) by hard-permit
	// 3. hard permit (high) + blocking callout (low)
	//   sublayer high:  sets the action: permit (hard)
	//   sublayer low:   VETO: a callout blocked over the hard permit (rule A7)
	//   => block (vetoed) by low-ids-callout
	// 4. block (high) + permit (low)
	//   sublayer high:  sets the action: block (hard)
	//   sublayer low:   ignored: the action is already hard
	//   => block (hard) by high-block
}
