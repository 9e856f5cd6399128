//go:build !windows || !(amd64 || arm64)

package bfe

import (
	"errors"
	"strings"
	"testing"

	"github.com/wfpsim/wfpsim/wfp"
)

func TestEverythingIsNotSupported(t *testing.T) {
	s := &Session{}
	calls := map[string]func() error{
		"Open": func() error {
			got, err := Open(wfp.SessionOptions{Dynamic: true})
			if got != nil {
				t.Error("Open returned a session off Windows")
			}
			return err
		},
		"AppIDFromFileName": func() error { _, err := AppIDFromFileName(`C:\x.exe`); return err },
		"Close":             s.Close,
		"BeginTransaction":  func() error { return s.BeginTransaction(false) },
		"CommitTransaction": s.CommitTransaction,
		"AbortTransaction":  s.AbortTransaction,
		"AddProvider":       func() error { return s.AddProvider(wfp.Provider{}) },
		"DeleteProvider":    func() error { return s.DeleteProvider(wfp.ProviderKey{}) },
		"Provider":          func() error { _, err := s.Provider(wfp.ProviderKey{}); return err },
		"Providers":         func() error { _, err := s.Providers(); return err },
		"AddSublayer":       func() error { return s.AddSublayer(wfp.Sublayer{}) },
		"DeleteSublayer":    func() error { return s.DeleteSublayer(wfp.SublayerKey{}) },
		"Sublayer":          func() error { _, err := s.Sublayer(wfp.SublayerKey{}); return err },
		"Sublayers":         func() error { _, err := s.Sublayers(); return err },
		"AddCallout":        func() error { _, err := s.AddCallout(wfp.Callout{}); return err },
		"DeleteCallout":     func() error { return s.DeleteCallout(wfp.CalloutKey{}) },
		"DeleteCalloutByID": func() error { return s.DeleteCalloutByID(1) },
		"Callout":           func() error { _, err := s.Callout(wfp.CalloutKey{}); return err },
		"Callouts":          func() error { _, err := s.Callouts(); return err },
		"AddFilter":         func() error { _, err := s.AddFilter(wfp.Filter{}); return err },
		"DeleteFilter":      func() error { return s.DeleteFilter(wfp.FilterKey{}) },
		"DeleteFilterByID":  func() error { return s.DeleteFilterByID(1) },
		"Filter":            func() error { _, err := s.Filter(wfp.FilterKey{}); return err },
		"FilterByID":        func() error { _, err := s.FilterByID(1); return err },
		"Filters":           func() error { _, err := s.Filters(nil); return err },
		"NetEvents":         func() error { _, err := s.NetEvents(); return err },
		"SubscribeNetEvents": func() error {
			cancel, err := s.SubscribeNetEvents(func(wfp.NetEvent) {})
			if cancel != nil {
				t.Error("SubscribeNetEvents returned a cancel off Windows")
			}
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, wfp.ErrNotSupported) {
			t.Errorf("%s: %v, want an error wrapping wfp.ErrNotSupported", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "Windows") || !strings.Contains(msg, "administrator") || !strings.Contains(msg, name) {
			t.Errorf("%s: message %q should name the call and say it needs Windows and administrator rights", name, msg)
		}
	}
}
