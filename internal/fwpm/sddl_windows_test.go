package fwpm

import (
	"reflect"
	"testing"

	"github.com/wfpsim/wfpsim/wfp"
)

// TestSecurityDescriptorRoundTrip needs Windows (SDDL conversion) but no rights.
func TestSecurityDescriptorRoundTrip(t *testing.T) {
	a := newArena(t)
	dst, err := alloc[Value0](a)
	if err != nil {
		t.Fatal(err)
	}
	v := wfp.SecurityDescriptor("O:LSD:(A;;CC;;;S-1-5-18)")
	if err := EncodeConditionValue(a, dst, v); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeValue(dst)
	if err != nil {
		t.Fatal(err)
	}
	// Windows prints well-known SIDs by their SDDL alias: S-1-5-18 comes back as SY.
	if want := wfp.SecurityDescriptor("O:LSD:(A;;CC;;;SY)"); !reflect.DeepEqual(back, want) {
		t.Errorf("round trip of %q = %#v, want %#v", v, back, want)
	}
}
