package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/policy"
	"github.com/wfpsim/wfpsim/wfp"
)

func exportCommand() *command {
	return &command{
		name:    "export",
		args:    "[--state DUMP.xml] [--policy FILE] [--filters] [-o out.xml]",
		summary: "write the simulated engine's state as netsh wfp XML",
		help: `
export loads a machine's state (--state, a netsh wfp dump) and a policy
(--policy) into a simulated engine, the way explain and replay do, and writes
what the engine then holds as the XML 'netsh wfp show state' writes: the layers
with their callouts and filters (built-in keys as symbolic names, weights with
their type and the effective weight the engine assigned), the providers and the
sublayers with their weights. --filters writes the layout of 'netsh wfp show
filters' instead (root <wfpdiag>: filters and providers only).

The output reads back with 'wfpsim import' (and with --state) to the same
filters, and tools that read netsh dumps can read it.

Examples:
  wfpsim export --policy testdata/policies/kill-switch.yaml
  wfpsim export --state wfpstate.xml --policy mine.yaml -o combined.xml
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			policyFile := fs.String("policy", "", "the policy `FILE` (YAML or JSON) to apply")
			stateFile := fs.String("state", "", "start from this machine's netsh wfp `DUMP.xml`")
			filters := fs.Bool("filters", false, "write the 'netsh wfp show filters' layout (<wfpdiag>)")
			out := fs.String("o", "", "write to `FILE` instead of standard output")
			return func(e *env, args []string) error {
				if len(args) != 0 {
					return usagef("export takes no arguments (run 'wfpsim export -h')")
				}
				eng := engine.New(engine.Options{})
				if *policyFile != "" || *stateFile != "" {
					l, err := loadState(e, *stateFile, *policyFile, "unregistered")
					if err != nil {
						return err
					}
					eng = l.e
				}
				s := eng.Open(wfp.SessionOptions{})
				defer s.Close()
				w := e.stdout
				if *out != "" {
					f, err := os.Create(*out)
					if err != nil {
						return fmt.Errorf("-o: %w", err)
					}
					defer f.Close()
					bw := bufio.NewWriter(f)
					defer bw.Flush()
					w = bw
				}
				return policy.ExportNetsh(w, s, policy.NetshExportOptions{Filters: *filters})
			}
		},
	}
}
