package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wfpsim/wfpsim/callout"
	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

func importCommand() *command {
	return &command{
		name:    "import",
		args:    "DUMP.xml [-o policy.yaml|policy.json] [--partial]",
		summary: "convert a real machine's netsh wfp dump into a policy document, with an account",
		help: `
import reads what 'netsh wfp show state' or 'netsh wfp show filters' wrote on
a Windows machine (run it in an elevated prompt; it writes wfpstate.xml or
filters.xml) and converts it into a wfpsim policy document: the machine's
providers, sublayers with their weights, callouts (the management objects;
their driver code is not there, so their filters act as rule A9 says for an
unregistered callout) and every filter with its layer, sublayer, conditions,
action and its effective weight kept exactly ({exact: ...}), so that the
simulator arbitrates in the machine's order. Keys are the dump's keys; names
that repeat get the filter id (or the key) in brackets.

It prints an account: filters by layer, provider and sublayer, the built-in
objects the engine already has, the callouts left unregistered, what was
carried over with a change (a provider context left out, a key derived from a
symbolic name the catalogue does not hold, ...) and everything not carried
over, each with the reason.

A dump with errors (malformed or truncated XML, an unknown element, a value
that does not parse) is refused with the line and the element path; with
--partial what can be imported is imported and the rest is listed.

Use the dump directly with --state on explain, replay, diff and export, or
convert it once with -o and edit the result.

Examples:
  wfpsim import wfpstate.xml
  wfpsim import wfpstate.xml -o machine.yaml
  wfpsim import --partial truncated.xml -o machine.yaml
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			out := fs.String("o", "", "write the policy document to `FILE` (.json for JSON, else YAML)")
			partial := fs.Bool("partial", false, "import what can be imported from a dump with errors, and list the rest")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("import needs one DUMP.xml (run 'wfpsim import -h')")
				}
				eng := engine.New(engine.Options{})
				s := eng.Open(wfp.SessionOptions{Name: "wfpsim import"})
				doc, acct, err := policy.ImportNetshFile(args[0], policy.ImportOptions{Existing: s, Partial: *partial})
				if err != nil {
					return err
				}
				if *out != "" {
					f, err := os.Create(*out)
					if err != nil {
						return fmt.Errorf("-o: %w", err)
					}
					if strings.HasSuffix(*out, ".json") {
						err = doc.WriteJSON(f)
					} else {
						err = doc.WriteYAML(f)
					}
					if cerr := f.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						return fmt.Errorf("-o %s: %w", *out, err)
					}
				}
				if err := acct.WriteText(e.stdout); err != nil {
					return err
				}
				if *out != "" {
					fmt.Fprintf(e.stdout, "\nwrote %s: %d providers, %d sublayers, %d callouts, %d filters\n", *out,
						len(doc.Providers), len(doc.Sublayers), len(doc.Callouts), len(doc.Filters))
				}
				return nil
			}
		},
	}
}

// loadState starts an engine from a machine's netsh dump (when state is not
// empty), then applies the policy file on top (when not empty). The returned
// names are the policy's (for --callout), else the state's.
// machineCalloutsFlag declares --machine-callouts, shared by the commands that take
// --state.
func machineCalloutsFlag(fs *flag.FlagSet) *string {
	return fs.String("machine-callouts", "continue", "with --state, what the callouts that were registered on the machine do: "+
		"`continue` (a stand-in that lets traffic through: continue, or a soft permit where its filter must decide) or unregistered (their filters follow rule A9: "+
		"terminating ones block)")
}

// loadState starts an engine from a machine's netsh dump (when state is set), then
// applies the policy file (when set). A dump holds the callouts' management objects,
// not their drivers' code: with machineCallouts "continue", the callouts the dump marks
// as registered get a stand-in that returns continue, as if their drivers let the
// traffic through; with "unregistered" they stay unregistered.
func loadState(e *env, state, file, machineCallouts string) (*loaded, error) {
	if state == "" {
		return loadPolicy(e, file)
	}
	if machineCallouts != "continue" && machineCallouts != "unregistered" {
		return nil, usagef("--machine-callouts %q: want continue or unregistered", machineCallouts)
	}
	eng := engine.New(engine.Options{})
	s := eng.Open(wfp.SessionOptions{Name: "wfpsim"})
	f, err := os.Open(state)
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	defer f.Close()
	opts := policy.ImportOptions{File: state, Existing: s}
	dump, err := policy.ReadNetsh(f, opts)
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	doc, acct := dump.Document(opts)
	applied, err := policy.Apply(s, doc)
	if err != nil {
		return nil, fmt.Errorf("--state %s: %w", state, err)
	}
	standIns := 0
	if machineCallouts == "continue" {
		for _, c := range dump.Callouts {
			if _, added := s.Callout(c.Key); c.Registered && added == nil {
				if err := eng.RegisterCallout(c.Key, callout.PassThrough()); err == nil {
					standIns++
				}
			}
		}
	}
	msg := fmt.Sprintf("wfpsim: state %s: %d filters imported", state, acct.Filters)
	if n := len(acct.Skipped); n > 0 {
		msg += fmt.Sprintf(", %d objects not carried over (run 'wfpsim import %s' for the account)", n, state)
	}
	if standIns > 0 {
		msg += fmt.Sprintf("; %d callouts registered on the machine answer continue (--machine-callouts)", standIns)
	}
	fmt.Fprintln(e.stderr, msg)
	if file != "" {
		pdoc, err := policy.Load(file)
		if err != nil {
			return nil, reportPolicyErrors(e, err)
		}
		objs, err := pdoc.Objects()
		if err != nil {
			return nil, reportPolicyErrors(e, err)
		}
		if applied, err = policy.ApplyObjects(s, objs); err != nil {
			return nil, reportPolicyErrors(e, err)
		}
	}
	return &loaded{e: eng, applied: applied}, nil
}
