package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates every capture into a temporary directory and
// compares it byte for byte with the committed files (the drift check): run
// `go generate ./internal/cmd/mkpcap` after changing the generator.
func TestGeneratedUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "..", "testdata", "pcap", "generated")
	for _, c := range Captures() {
		got, err := os.ReadFile(filepath.Join(dir, c.name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(committed, c.name))
		if err != nil {
			t.Fatalf("%v (run go generate ./internal/cmd/mkpcap)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the committed file differs from the generator's output (run go generate ./internal/cmd/mkpcap)", c.name)
		}
	}
	// A second run writes the same bytes: nothing depends on time or randomness.
	dir2 := t.TempDir()
	if err := Generate(dir2); err != nil {
		t.Fatal(err)
	}
	for _, c := range Captures() {
		a, _ := os.ReadFile(filepath.Join(dir, c.name))
		b, _ := os.ReadFile(filepath.Join(dir2, c.name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", c.name)
		}
	}
}
