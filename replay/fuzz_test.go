package replay

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seedCaptures adds the bundled captures (and the shared ones when present) to a
// fuzz corpus, whole files or their frames.
func seedFiles(f *testing.F) []string {
	var files []string
	for _, dir := range []string{captured, generated, sharedPcap} {
		m, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil && fi.Size() < 8<<10 {
				files = append(files, p)
			}
		}
	}
	return files
}

// FuzzReplayCapture writes arbitrary bytes to a file and replays it: the replay
// never panics and never hangs, and every frame it reads is accounted for.
func FuzzReplayCapture(f *testing.F) {
	for _, p := range seedFiles(f) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan *run, 1)
		go func() { done <- replayFiles(t, "", Options{}, path) }()
		select {
		case o := <-done:
			s := o.r.Summary
			if s.Frames != s.Skipped+s.NotThisHost+s.Packets["permit"]+s.Packets["block"] {
				t.Fatalf("frames not accounted for: %+v", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("replay hangs")
		}
	})
}

// FuzzDecodeFrame decodes arbitrary bytes as a frame of each supported link type:
// an error or a packet, never a panic.
func FuzzDecodeFrame(f *testing.F) {
	for _, p := range seedFiles(f) {
		src, err := Open(p)
		if err != nil {
			continue
		}
		for i := 0; i < 8; i++ {
			fr, err := src.Next()
			if err != nil {
				break
			}
			f.Add(fr.LinkType, fr.Data)
		}
		src.Close()
	}
	d := newDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		for _, l := range []uint16{lt, linkNull, linkEthernet, linkRaw, linkLoop, linkLinuxSLL, linkIPv4, linkIPv6} {
			p, err := d.decode(Frame{N: 1, LinkType: l, Data: data})
			if err == nil && p == nil {
				t.Fatal("no packet and no error")
			}
		}
	})
}
