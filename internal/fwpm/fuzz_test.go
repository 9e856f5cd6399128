package fwpm

import (
	"errors"
	"testing"

	"github.com/wfpsim/wfpsim/wfp"
)

// FuzzValueRoundTrip encodes every value wfp.ParseValue accepts into an
// FWP_CONDITION_VALUE0 and decodes it back: encoding may refuse a value (with an
// error), but must never panic, and what it accepts must come back printing the same.
func FuzzValueRoundTrip(f *testing.F) {
	for _, v := range everyValue {
		f.Add(uint32(v.Type()), v.String())
	}
	f.Add(uint32(wfp.TypeRange), "1..2")
	f.Add(uint32(wfp.TypeUint8), "300")
	f.Fuzz(func(t *testing.T, typ uint32, s string) {
		v, err := wfp.ParseValue(wfp.DataType(typ), s)
		if err != nil {
			return
		}
		a := NewArena()
		defer a.Free()
		dst, err := alloc[Value0](a)
		if err != nil {
			t.Fatal(err)
		}
		if err := EncodeConditionValue(a, dst, v); err != nil {
			if errors.Is(err, wfp.ErrNotSupported) {
				return
			}
			return // refused with an error: allowed, as long as it did not panic
		}
		back, err := DecodeValue(dst)
		if err != nil {
			t.Fatalf("%s %q: encoded, but decoding failed: %v", v.Type(), s, err)
		}
		if back.Type() != v.Type() || back.String() != v.String() {
			t.Fatalf("%s %q: round trip gave %s %q, want %q", v.Type(), s, back.Type(), back.String(), v.String())
		}
	})
}
