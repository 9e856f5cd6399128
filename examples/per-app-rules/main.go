// Command per-app-rules replays the bundled workstation capture against rules
// that name applications (ALE_APP_ID) and users (ALE_USER_ID, an SDDL security
// descriptor), with the host file that says which process, running as which
// user, owns each socket.
//
//	go run ./examples/per-app-rules [CAPTURE [HOST.yaml]]
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "per-app-rules:", err)
		os.Exit(1)
	}
}

// rules: the browser may connect anywhere; programs running as LocalSystem
// (S-1-5-18) only to the LAN; everything else is blocked. The ALE_APP_ID value is
// written as a DOS path: the policy turns it into the lower-case NT device path
// FwpmGetAppIdFromFileName0 returns. The ALE_USER_ID value is a security
// descriptor: a SID S-1-5-18 becomes D:(A;;CC;;;S-1-5-18), "allow the connect
// right to LocalSystem", and matches when the connecting token has that access.
const rules = `
version: 1
sublayers:
  - {name: apps, weight: 0x8000}
filters:
  - name: permit-firefox
    layer: ALE_AUTH_CONNECT_V4
    sublayer: apps
    weight: 10
    action: permit
    conditions:
      - {field: ALE_APP_ID, value: 'C:\Program Files\Mozilla Firefox\firefox.exe'}
  - name: permit-system-to-lan
    layer: ALE_AUTH_CONNECT_V4
    sublayer: apps
    weight: 8
    action: permit
    conditions:
      - {field: ALE_USER_ID, value: 'D:(A;;CC;;;S-1-5-18)'}
      - {field: IP_REMOTE_ADDRESS, value: 192.168.1.0/24}
  - name: block-the-rest
    layer: ALE_AUTH_CONNECT_V4
    sublayer: apps
    weight: 0
    action: block
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
	capture := find("testdata/pcap/generated/workstation.pcap")
	hostFile := find("testdata/hosts/workstation.yaml")
	if len(args) > 0 {
		capture = args[0]
	}
	if len(args) > 1 {
		hostFile = args[1]
	}
	host, err := replay.LoadHost(hostFile)
	if err != nil {
		return err
	}
	doc, err := policy.Parse("rules.yaml", []byte(rules))
	if err != nil {
		return err
	}
	eng := engine.New(engine.Options{})
	if _, err := policy.Apply(eng.Open(wfp.SessionOptions{Name: "lesson"}), doc); err != nil {
		return err
	}

	// Trace: the steps carry the incoming values, so we can print the app id and
	// user the stack filled in from the socket's owner.
	r := replay.New(eng, replay.Options{Host: host, Trace: true})
	if err := r.Start([]string{capture}); err != nil {
		return err
	}
	seen := map[string]bool{}
	err = r.Replay(capture, func(pr *replay.PacketResult) error {
		if pr.Skipped || pr.Direction != "outbound" || seen[pr.Flow] {
			return nil
		}
		for _, st := range pr.Steps {
			if st.Layer.ShortName != "ALE_AUTH_CONNECT_V4" || st.Trace == nil {
				continue
			}
			seen[pr.Flow] = true
			app, user := "no process", "-"
			for _, v := range st.Trace.Values {
				switch v.Field {
				case "ALE_APP_ID":
					app = v.Text[strings.LastIndexByte(v.Text, '\\')+1:]
				case "ALE_USER_ID":
					user = strings.TrimSuffix(strings.TrimPrefix(v.Text, "user="), ";groups=")
				}
			}
			verdict := "permit"
			if st.Decision.Action == wfp.ActionBlock {
				verdict = "BLOCK"
			}
			owner := app + " as " + who(user)
			if user == "-" {
				owner = app
			}
			fmt.Fprintf(w, "%s\n    %s: %s by %s\n", pr.Flow, owner, verdict, st.Decision.FilterName)
		}
		return nil
	}, func(p replay.Problem) { fmt.Fprintf(w, "problem: %s\n", p) })
	r.Stack().Close()
	return err
}

// who names the well-known SIDs.
func who(sid string) string {
	switch {
	case sid == "S-1-5-18":
		return sid + " (LocalSystem)"
	case sid == "S-1-5-20":
		return sid + " (NetworkService)"
	case strings.HasPrefix(sid, "S-1-5-21-"):
		return sid + " (a local user)"
	}
	return sid
}
