package wfp_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/wfpsim/wfpsim/wfp"
)

func Example() {
	cond := wfp.Condition{
		Field: wfp.FieldKey(wfp.MustParseGUID("b3cdd441-af90-41ba-a745-7c6008ff2301")), // FWPM_CONDITION_IP_REMOTE_ADDRESS
		Match: wfp.MatchEqual,
		Value: wfp.PrefixValue(netip.MustParsePrefix("10.0.0.0/8")),
	}
	fmt.Println(cond.Value.Type(), cond.Value)

	port, _ := wfp.ParseValue(wfp.TypeUint16, "443")
	fmt.Println(port.Type(), port)

	fmt.Println(wfp.ActionCalloutTerminating, wfp.ActionCalloutTerminating.IsCallout())
	fmt.Println(errors.Is(wfp.ErrFilterNotFound, wfp.ErrNotFound))
	// Output:
	// FWP_V4_ADDR_MASK 10.0.0.0/8
	// FWP_UINT16 443
	// FWP_ACTION_CALLOUT_TERMINATING true
	// true
}
