package policy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the parser and resolver: they must never panic,
// and a document that resolves must write and read back.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(filepath.Base(p), b)
		}
	}
	f.Add("x.yaml", []byte("version: 1\nfilters: [{name: f, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, match: range, value: 1-2}]}]\n"))
	f.Add("x.json", []byte("\t{\"version\": 1, \"filters\": [{\"name\": \"a\"}]}"))
	f.Add("x.yaml", []byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if os.Getenv("FUZZ_DEADLINE") != "" {
			tm := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("slow input %q %q", name, data)) })
			defer tm.Stop()
		}
		_ = Check(name, data)
		doc, err := Parse(name, data)
		if err != nil {
			return
		}
		if _, err := doc.Objects(); err != nil {
			return
		}
		var b bytes.Buffer
		if err := doc.WriteYAML(&b); err != nil {
			t.Fatalf("WriteYAML: %v", err)
		}
		b.Reset()
		if err := doc.WriteJSON(&b); err != nil {
			t.Fatalf("WriteJSON: %v", err)
		}
	})
}
