package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/replay"
)

func diffCommand() *command {
	return &command{
		name:    "diff",
		args:    "--policy OLD --policy NEW [--state DUMP.xml] [--host FILE | --local ADDR...] CAPTURE...",
		summary: "replay captures under two policies and list the flows whose verdict changes",
		help: `
diff answers "what would this policy change do to real traffic?". It loads
OLD and NEW into two simulated engines (each on top of the same machine state
when --state gives a netsh wfp dump), replays the captures through both, and
lists every flow whose verdict changes, with the packet where it first
differs and the deciding filter and layer on each side. A flow blocked on one
side stays blocked there for its later packets, so one line per flow is
enough. Use an empty policy file (version: 1) as OLD to see what NEW alone
changes on top of the machine's state.

The host is given, or inferred, as for replay. Exit status 0 whether or not
flows change; 1 when a capture could not be replayed.

Examples:
  wfpsim diff --policy old.yaml --policy new.yaml capture.pcapng
  wfpsim diff --state wfpstate.xml --policy empty.yaml --policy block-http.yaml \
      testdata/pcap/captured/zeek-http-vlan-0.pcap
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			var policies, locals multiFlag
			fs.Var(&policies, "policy", "the OLD then the NEW policy `FILE` (give it twice)")
			stateFile := fs.String("state", "", "start both engines from this machine's netsh wfp `DUMP.xml`")
			machineCallouts := machineCalloutsFlag(fs)
			hostFile := fs.String("host", "", "the host `FILE` (YAML)")
			fs.Var(&locals, "local", "an `ADDR`ess of the capturing host (repeatable)")
			return func(e *env, args []string) error {
				if len(policies) != 2 || len(args) == 0 {
					return usagef("diff needs --policy OLD --policy NEW and at least one CAPTURE (run 'wfpsim diff -h')")
				}
				if *hostFile != "" && len(locals) > 0 {
					return usagef("give --host or --local, not both")
				}
				var opts replay.Options
				if err := hostOptions(&opts, *hostFile, locals); err != nil {
					return err
				}
				var sides [2]map[string]*replay.PacketResult
				var order []string
				complete := true
				for i, p := range policies {
					l, err := loadState(e, *stateFile, p, *machineCallouts)
					if err != nil {
						return err
					}
					res, keys, ok, err := replayAll(e, l.e, opts, args, i == 0)
					if err != nil {
						return err
					}
					complete = complete && ok
					sides[i] = res
					if i == 0 {
						order = keys
					}
				}
				n := diffFlows(e, policies[0], policies[1], order, sides[0], sides[1])
				fmt.Fprintf(e.stdout, "%d flows change verdict\n", n)
				if !complete {
					return errReported
				}
				return nil
			}
		},
	}
}

// replayAll replays the captures on one engine and keeps every packet's result.
func replayAll(e *env, eng *engine.Engine, opts replay.Options, files []string, report bool) (map[string]*replay.PacketResult, []string, bool, error) {
	r := replay.New(eng, opts)
	if err := r.Start(files); err != nil {
		return nil, nil, false, err
	}
	if report && r.Inference != "" {
		fmt.Fprintf(e.stderr, "wfpsim: %s\n", r.Inference)
	}
	res := map[string]*replay.PacketResult{}
	var keys []string
	ok := true
	for _, file := range files {
		err := r.Replay(file, func(pr *replay.PacketResult) error {
			if pr.Skipped {
				return nil
			}
			k := fmt.Sprintf("%s#%d", pr.File, pr.N)
			c := *pr // the verdict fields only: the steps, replies and frame are reused by the replay
			c.Steps, c.Replies, c.Frame.Data = nil, nil, nil
			res[k] = &c
			keys = append(keys, k)
			return nil
		}, func(p replay.Problem) {
			if report {
				fmt.Fprintf(e.stderr, "wfpsim: %s\n", p)
			}
			ok = false
		})
		if err != nil {
			return nil, nil, false, err
		}
	}
	r.Stack().Close()
	return res, keys, ok, nil
}

// diffFlows prints one line per flow whose verdict differs, at its first differing packet.
func diffFlows(e *env, oldName, newName string, order []string, a, b map[string]*replay.PacketResult) int {
	seen := map[string]bool{}
	n := 0
	for _, k := range order {
		x, y := a[k], b[k]
		fk := flowKey(x.Flow)
		if y == nil || x.Verdict == y.Verdict || seen[fk] {
			continue
		}
		seen[fk] = true
		n++
		fmt.Fprintf(e.stdout, "%s packet %d %s %s\n", x.File, x.N, x.Direction, x.Flow)
		fmt.Fprintf(e.stdout, "  old (%s): %s\n", oldName, side(x))
		fmt.Fprintf(e.stdout, "  new (%s): %s\n", newName, side(y))
	}
	return n
}

// flowKey names a flow the same way in both directions: "tcp a -> b" and
// "tcp b -> a" are one flow.
func flowKey(flow string) string {
	proto, rest, ok := strings.Cut(flow, " ")
	if !ok {
		return flow
	}
	a, b, ok := strings.Cut(rest, " -> ")
	if !ok {
		return flow
	}
	if b < a {
		a, b = b, a
	}
	return proto + " " + a + " " + b
}

func side(pr *replay.PacketResult) string {
	s := pr.Verdict
	if pr.Filter != "" {
		s += " by filter " + pr.Filter
	}
	if pr.Layer != "" {
		s += " at " + pr.Layer
	}
	if pr.Reason != "" {
		s += ": " + pr.Reason
	}
	return s
}
