// Command real-state-hard-permit replays a small capture against a real
// Windows machine's filters (a netsh wfp show state dump) plus a new block
// rule, and shows how a hard permit in someone else's sublayer wins over it.
//
//	go run ./examples/real-state-hard-permit [DUMP.xml [CAPTURE [HOST.yaml]]]
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "real-state-hard-permit:", err)
		os.Exit(1)
	}
}

// myBlock is the new rule: block every outbound TCP connection to
// 93.184.216.34 (example.com), in the author's own sublayer. A static block is
// hard (rule A5), so no soft permit of Windows Firewall can undo it.
const myBlock = `
version: 1
providers:
  - name: My Company
sublayers:
  - name: my-policy
    weight: 0x1000
    provider: My Company
filters:
  - name: block-example-com
    layer: ALE_AUTH_CONNECT_V4
    sublayer: my-policy
    action: block
    conditions:
      - {field: IP_REMOTE_ADDRESS, match: equal, value: 93.184.216.34}
      - {field: IP_PROTOCOL, match: equal, value: tcp}
`

// vendorPermit is someone else's rule, installed on the same machine (a VPN or
// remote-support client, say): a permit for HTTPS to the same server in its own,
// higher sublayer, with clear_action_right, so the permit is hard (rule A6).
const vendorPermit = `
version: 1
providers:
  - name: Contoso Remote Support
sublayers:
  - name: contoso
    weight: 0xc000
    provider: Contoso Remote Support
filters:
  - name: contoso-allow-https
    layer: ALE_AUTH_CONNECT_V4
    sublayer: contoso
    weight: 10
    action: permit
    flags: [clear_action_right]
    conditions:
      - {field: IP_REMOTE_ADDRESS, match: equal, value: 93.184.216.34}
      - {field: IP_REMOTE_PORT, match: equal, value: 443}
`

// find returns the first of the paths that exists (the example runs from its
// own directory under go test, and from the repository root under go run).
func find(rel string) string {
	for _, p := range []string{filepath.Join("..", "..", rel), rel} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return rel
}

func run(w io.Writer, args []string) error {
	dump := find("testdata/wfpstate/keploy-wfpstate.xml")
	capture := find("testdata/pcap/generated/workstation.pcap")
	hostFile := find("testdata/hosts/workstation.yaml")
	if len(args) > 0 {
		dump = args[0]
	}
	if len(args) > 1 {
		capture = args[1]
	}
	if len(args) > 2 {
		hostFile = args[2]
	}
	host, err := replay.LoadHost(hostFile)
	if err != nil {
		return err
	}
	for _, sc := range []struct {
		title    string
		policies []string
	}{
		{"the machine as dumped", nil},
		{"the machine + my block rule", []string{myBlock}},
		{"the machine + Contoso's hard permit + my block rule", []string{vendorPermit, myBlock}},
	} {
		eng, err := machine(dump)
		if err != nil {
			return err
		}
		s := eng.Open(wfp.SessionOptions{Name: "lesson"})
		for i, text := range sc.policies {
			doc, err := policy.Parse(fmt.Sprintf("policy%d.yaml", i), []byte(text))
			if err != nil {
				return err
			}
			if _, err := policy.Apply(s, doc); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%s:\n", sc.title)
		if err := flows(w, eng, host, capture); err != nil {
			return err
		}
	}
	return nil
}

// machine starts an engine from a netsh dump. The dump has the callouts'
// management objects but not their drivers' code; the callouts that were
// registered on the machine get a stand-in that defers (continue), so that their
// filters neither block (rule A9) nor decide.
func machine(dump string) (*engine.Engine, error) {
	f, err := os.Open(dump)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "machine"})
	opts := policy.ImportOptions{File: filepath.Base(dump), Existing: s}
	d, err := policy.ReadNetsh(f, opts)
	if err != nil {
		return nil, err
	}
	doc, _ := d.Document(opts)
	if _, err := policy.Apply(s, doc); err != nil {
		return nil, err
	}
	for _, c := range d.Callouts {
		if c.Registered {
			if err := eng.RegisterCallout(c.Key, callout.PassThrough()); err != nil {
				return nil, err
			}
		}
	}
	return eng, nil
}

// flows prints the verdict of each outbound TCP connection to 93.184.216.34.
func flows(w io.Writer, eng *engine.Engine, host *engine.Host, capture string) error {
	r := replay.New(eng, replay.Options{Host: host})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	seen := map[string]bool{}
	err := r.Replay(capture, func(pr *replay.PacketResult) error {
		if pr.Skipped || pr.Direction != "outbound" || seen[pr.Flow] || !contains(pr.Flow, "-> 93.184.216.34:") {
			return nil
		}
		seen[pr.Flow] = true
		verdict := "permit"
		if pr.Verdict == "block" {
			verdict = "BLOCK"
		}
		for _, st := range pr.Steps {
			if st.Layer.ShortName != "ALE_AUTH_CONNECT_V4" {
				continue
			}
			d := st.Decision
			how := "soft"
			if d.Hard {
				how = "hard"
			}
			by := "no filter decided (default permit)"
			if d.Decided {
				by = fmt.Sprintf("%s %s by %q", how, d.Action.ShortName(), d.FilterName)
			}
			fmt.Fprintf(w, "  %-44s %-6s ALE_AUTH_CONNECT_V4: %s\n", pr.Flow, verdict, by)
		}
		return nil
	}, func(p replay.Problem) { fmt.Fprintf(w, "  problem: %s\n", p) })
	r.Stack().Close()
	return err
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
