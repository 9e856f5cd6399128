package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/wfpsim/wfpsim/policy"
)

// errReported is a failure whose explanation was already printed.
var errReported = errors.New("reported")

func checkCommand() *command {
	return &command{
		name:    "check",
		args:    "--policy FILE",
		summary: "validate a policy document and print every error",
		help: `
A policy document (YAML or JSON) lists providers, sublayers, callouts and
filters. check resolves every name and value the way the Base Filtering Engine
would validate FwpmFilterAdd0, without changing anything, and prints EVERY
error with its file, line and column, its path in the document and the WFP
error the real engine would return (FWP_E_TYPE_MISMATCH, ...). Exit status 1
when there is any error.

Examples:
  wfpsim check --policy testdata/policies/kill-switch.yaml
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			file := fs.String("policy", "", "the policy `FILE` to check (YAML or JSON)")
			return func(e *env, args []string) error {
				if *file == "" || len(args) != 0 {
					return usagef("check needs --policy FILE and no other argument (run 'wfpsim check -h')")
				}
				data, err := os.ReadFile(*file)
				if err != nil {
					return fmt.Errorf("read policy: %w", err)
				}
				errs := policy.Check(*file, data)
				for _, pe := range errs {
					fmt.Fprintln(e.stderr, pe.Error())
				}
				if len(errs) > 0 {
					fmt.Fprintf(e.stderr, "%s: %d error(s)\n", *file, len(errs))
					return errReported
				}
				fmt.Fprintf(e.stdout, "%s: ok\n", *file)
				return nil
			}
		},
	}
}
