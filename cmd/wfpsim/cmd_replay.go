package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/render"
	"github.com/wfpsim/wfpsim/replay"
	"github.com/wfpsim/wfpsim/wfp"
)

func replayCommand() *command {
	return &command{
		name:    "replay",
		args:    "[--state DUMP.xml] [--policy FILE] [--host FILE | --local ADDR...] [--format text|jsonl|summary] [--out FILE.pcapng] [--only blocked] [-v | --step] CAPTURE...",
		summary: "replay captures through a simulated Windows host and show what the policy would do",
		help: `
replay is the main job of wfpsim. It reads pcap or pcapng captures, decides
which packets the capturing host sent and received, and walks every packet
through the simulated Windows stack with the policy loaded: the ALE layers
authorize each flow's first packet, later packets of an authorized flow skip
them, and a block at any layer stops the packet there. The capture shows what
happened without the policy; the replay shows what the policy would do. Once a
flow is blocked, its later packets are reported as dropped because of that
decision (naming the packet and the filter).

A real machine's filters: --state DUMP.xml starts the engine from a 'netsh wfp
show state' (or show filters) dump, so the policy runs next to Windows
Firewall, VPN and EDR filters as it would there; --policy is applied on top.
'wfpsim import DUMP.xml' prints what the dump carries over.

Which host? --host FILE gives the host model (interfaces and addresses,
processes with their image paths and users, their sockets); --local ADDR
(repeatable) just names its addresses; with neither, wfpsim infers it from the
first 2048 IP packets (the address that sent the TCP SYNs, with the addresses
sharing its MAC) and says so. Ports the capture shows open on that host (it
answered a SYN, it sent from a UDP port) are treated as open from 2048 packets
before it shows them: each capture is read once, that far ahead of the replay.

Output: text (one line per packet; -v adds the layers each packet met and the
arbitration trace of each), jsonl (one JSON object per packet, a stable
contract: n, direction, flow, verdict, layer, filter, layers[]), or summary.
--out writes a pcapng copy whose packet comments carry each verdict, to open in
Wireshark (the frame.comment field). Exit status 1 when some packet could not be
replayed (an unreadable file, an unsupported link type, an undecodable packet);
the rest is still replayed.

--step opens an interactive view on a terminal (the packets are replayed
first, at most 100000 of them): the stack with each packet's path and verdicts,
next and previous packet, jump to the next block, a layer's arbitration table,
the traces, one flow's packets only; the keys are shown at the bottom, q quits.

Examples:
  wfpsim replay --policy testdata/policies/kill-switch.yaml testdata/pcap/captured/zeek-http-vlan-0.pcap
  wfpsim replay --policy p.yaml --local 10.0.0.5 --format jsonl --only blocked capture.pcapng
  wfpsim replay --policy p.yaml --host host.yaml --out annotated.pcapng capture.pcap
  wfpsim replay --step --policy testdata/policies/hard-permit.yaml testdata/pcap/generated/workstation.pcap
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			policyFile := fs.String("policy", "", "the policy `FILE` (YAML or JSON); none: no filters")
			stateFile := fs.String("state", "", "start from this machine's netsh wfp `DUMP.xml`, then apply --policy on top")
			machineCallouts := machineCalloutsFlag(fs)
			hostFile := fs.String("host", "", "the host `FILE` (YAML)")
			var locals multiFlag
			fs.Var(&locals, "local", "an `ADDR`ess of the capturing host (repeatable)")
			format := fs.String("format", "text", "output `format`: text, jsonl or summary")
			out := fs.String("out", "", "write an annotated pcapng copy to `FILE`")
			only := fs.String("only", "", "print only packets with this verdict: `blocked` or permitted")
			verbose := fs.Bool("v", false, "print the layers each packet met, with the arbitration traces")
			step := fs.Bool("step", false, "step through the packets in an interactive view (needs a terminal)")
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("replay needs at least one CAPTURE (run 'wfpsim replay -h')")
				}
				switch *format {
				case "text", "jsonl", "summary":
				default:
					return usagef("unknown format %q: want text, jsonl or summary", *format)
				}
				onlyVerdict := ""
				switch *only {
				case "":
				case "blocked", "block":
					onlyVerdict = "block"
				case "permitted", "permit":
					onlyVerdict = "permit"
				default:
					return usagef("--only %q: want blocked or permitted", *only)
				}
				if *hostFile != "" && len(locals) > 0 {
					return usagef("give --host or --local, not both")
				}
				if *step {
					if *format != "text" || *out != "" {
						return usagef("--step shows packets interactively: it takes no --format or --out")
					}
					if !stepTerminal(e) {
						return usagef("--step needs a terminal on standard input and output; use -v for the printed layers and traces")
					}
				}
				opts := replay.Options{Trace: *verbose}
				if err := hostOptions(&opts, *hostFile, locals); err != nil {
					return err
				}
				var eng *engine.Engine
				if *policyFile != "" || *stateFile != "" {
					l, err := loadState(e, *stateFile, *policyFile, *machineCallouts)
					if err != nil {
						return err
					}
					eng = l.e
				} else {
					eng = engine.New(engine.Options{})
				}
				if *step {
					return runStep(e, eng, opts, args, onlyVerdict)
				}
				return runReplay(e, eng, opts, args, *format, onlyVerdict, *out, *verbose)
			}
		},
	}
}

func runReplay(e *env, eng *engine.Engine, opts replay.Options, files []string, format, only, out string, verbose bool) error {
	r := replay.New(eng, opts)
	if err := r.Start(files); err != nil {
		return err
	}
	if r.Inference != "" {
		fmt.Fprintf(e.stderr, "wfpsim: %s\n", r.Inference)
	}
	var aw *replay.AnnotatedWriter
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		if aw, err = replay.NewAnnotatedWriter(f); err != nil {
			return fmt.Errorf("--out %s: %w", out, err)
		}
	}
	blockStyle := lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	view := render.Options{Profile: render.Detect(e.stdout)}
	blockedFlows := map[string]int{}
	progress := newProgress(e)
	complete := true
	withFile := len(files) > 1
	for _, file := range files {
		err := r.Replay(file, func(pr *replay.PacketResult) error {
			progress.tick(file)
			if aw != nil {
				if err := aw.WritePacket(pr.Frame, comment(pr)); err != nil {
					return fmt.Errorf("--out %s: %w", out, err)
				}
			}
			if pr.Skipped || (only != "" && pr.Verdict != only) {
				return nil
			}
			if pr.Verdict == "block" {
				blockedFlows[pr.Flow]++
			}
			switch format {
			case "jsonl":
				return pr.WriteJSONLine(e.stdout, withFile)
			case "text":
				line := pr.Line(false)
				if withFile {
					line = pr.File + ":" + line
				}
				if e.styled && pr.Verdict == "block" {
					line = blockStyle.Render(line)
				}
				fmt.Fprintln(e.stdout, line)
				if verbose && e.styled {
					return writeStyledSteps(e, pr, view)
				}
				if verbose {
					return pr.WriteSteps(e.stdout)
				}
			}
			return nil
		}, func(p replay.Problem) {
			progress.clear()
			complete = false
			fmt.Fprintf(e.stderr, "wfpsim: %s\n", p)
		})
		if err != nil {
			return err
		}
	}
	progress.clear()
	if aw != nil {
		if err := aw.Flush(); err != nil {
			return fmt.Errorf("--out %s: %w", out, err)
		}
	}
	r.Stack().Close()
	if format != "jsonl" {
		if format == "text" {
			fmt.Fprintln(e.stdout)
		}
		if e.styled {
			if err := writeStyledSummary(e, &r.Summary, blockedFlows, neverMatched(eng), view); err != nil {
				return err
			}
		} else if err := r.Summary.WriteSummary(e.stdout, neverMatched(eng)); err != nil {
			return err
		}
	}
	if !complete {
		return errReported
	}
	return nil
}

// writeStyledSteps is replay -v on a terminal: the stack with the packet's path,
// then the arbitration table of every layer that holds filters.
func writeStyledSteps(e *env, pr *replay.PacketResult, view render.Options) error {
	fmt.Fprint(e.stdout, render.Stack(pr.Steps, render.Packet{Direction: pr.Direction, Verdict: pr.Verdict, Reason: pr.Reason}, view))
	for _, s := range pr.Steps {
		if s.Trace != nil && len(s.Trace.Sublayers) > 0 {
			fmt.Fprint(e.stdout, render.Arbitration(s.Trace, view))
		}
	}
	_, err := fmt.Fprintln(e.stdout)
	return err
}

// writeStyledSummary is the summary on a terminal: render's bars and top blocked
// flows, then the lines of the text summary that the view does not show.
func writeStyledSummary(e *env, s *replay.Summary, blockedFlows map[string]int, never []string, view render.Options) error {
	byLayer := map[string]int{}
	for k, v := range s.ByLayer {
		if k == "" {
			k = "(the stack: closed port, no connection, ...)"
		}
		byLayer[k] = v
	}
	fmt.Fprint(e.stdout, render.Summary(render.Counts{
		Frames: s.Frames, Skipped: s.Skipped, NotThisHost: s.NotThisHost,
		Packets: s.Packets, ByLayer: byLayer, ByFilter: s.ByFilter, BlockedFlows: blockedFlows,
	}, view))
	var text strings.Builder
	if err := s.WriteSummary(&text, never); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	for _, line := range strings.Split(text.String(), "\n") {
		if strings.HasPrefix(line, "flows:") || strings.HasPrefix(line, "filters that never matched") || strings.HasPrefix(line, "incomplete:") {
			fmt.Fprintln(e.stdout, line)
		}
	}
	return nil
}

// comment is the annotated pcapng's packet comment.
func comment(pr *replay.PacketResult) string {
	if pr.Skipped {
		return "wfpsim: " + pr.Reason
	}
	s := "wfpsim: " + pr.Verdict
	if pr.Filter != "" {
		s += " by filter " + pr.Filter
	}
	if pr.Layer != "" {
		s += " at " + pr.Layer
	}
	return s + ": " + pr.Reason
}

func neverMatched(e *engine.Engine) []string {
	s := e.Open(wfp.SessionOptions{})
	defer s.Close()
	filters, err := s.Filters(nil)
	if err != nil {
		return nil
	}
	hits := e.FilterHits()
	var out []string
	for _, f := range filters {
		if hits[f.ID] == 0 {
			out = append(out, f.DisplayData.Name)
		}
	}
	sort.Strings(out)
	return out
}

// progress draws "replaying FILE: N packets" on standard error when it is a terminal.
type progress struct {
	w     io.Writer
	on    bool
	n     int
	last  time.Time
	shown bool
}

func newProgress(e *env) *progress {
	on := false
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		on = true
	}
	return &progress{w: e.stderr, on: on}
}

func (p *progress) tick(file string) {
	p.n++
	if !p.on || p.n%1000 != 0 || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\rreplaying %s: %d packets", file, p.n)
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// hostOptions sets the replay's host from --local addresses and a --host file.
func hostOptions(opts *replay.Options, hostFile string, locals []string) error {
	for _, l := range locals {
		a, err := netip.ParseAddr(l)
		if err != nil {
			return usagef("--local %q: want an IP address", l)
		}
		opts.Locals = append(opts.Locals, a.Unmap())
	}
	if hostFile != "" {
		h, err := replay.LoadHost(hostFile)
		if err != nil {
			return err
		}
		opts.Host = h
	}
	return nil
}
