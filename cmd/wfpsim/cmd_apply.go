package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/wfpsim/wfpsim/policy"
)

// needsWindows is what apply, state and remove say where there is no Base Filtering
// Engine to talk to; nil on Windows.
func needsWindows(e *env, name string) error {
	if runtime.GOOS != "windows" {
		fmt.Fprintf(e.stderr, "wfpsim %s needs Windows (the Base Filtering Engine) and an administrator shell; to dry-run the policy here use: wfpsim check / wfpsim replay\n", name)
		return errReported
	}
	return nil
}

func applyCommand() *command {
	return &command{
		name:    "apply",
		args:    "--policy FILE [--persistent] [--force]",
		summary: "add a policy's filters to the real Base Filtering Engine (Windows)",
		help: `
apply adds the providers, sublayers, callouts and filters of a policy document
to the real Base Filtering Engine of this Windows machine, in one transaction
(FwpmTransactionBegin0 ... FwpmTransactionCommit0), from an administrator
shell. By default the objects live in a dynamic session: apply waits until
it is interrupted (Ctrl-C) and they go away with it. --persistent adds them
with FWPM_FILTER_FLAG_PERSISTENT under the provider "wfpsim" (objects that
name no provider), so they outlive wfpsim and reboots until "wfpsim remove"
deletes them.

Lockout guard: a policy that would block all traffic (a block with no
conditions, or conditions that match everything, at ALE_AUTH_CONNECT,
ALE_AUTH_RECV_ACCEPT or the IP packet or transport layers, with no permit
that takes precedence over it) cuts off remote shells too. apply refuses it
unless --force is given. The guard runs on every OS.

On other systems apply checks the document and the lockout guard, then exits
with status 1: dry-run the policy with "wfpsim check" and "wfpsim replay".

Examples:
  wfpsim apply --policy testdata/policies/kill-switch.yaml
  wfpsim apply --policy block-all.yaml --force
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			file := fs.String("policy", "", "the policy `FILE` to apply (YAML or JSON)")
			persistent := fs.Bool("persistent", false, "add the objects as persistent (they outlive wfpsim)")
			force := fs.Bool("force", false, "apply even a policy that would block all traffic")
			return func(e *env, args []string) error {
				if *file == "" || len(args) != 0 {
					return usagef("apply needs --policy FILE and no other argument (run 'wfpsim apply -h')")
				}
				data, err := os.ReadFile(*file)
				if err != nil {
					return fmt.Errorf("read policy: %w", err)
				}
				doc, err := policy.Parse(*file, data)
				if err != nil {
					var list policy.ErrorList
					if errors.As(err, &list) {
						for _, pe := range list {
							fmt.Fprintln(e.stderr, pe.Error())
						}
						return errReported
					}
					return err
				}
				objs, err := doc.Objects()
				if err != nil {
					return err
				}
				findings, err := lockout(objs)
				if err != nil {
					return err
				}
				if len(findings) > 0 && !*force {
					for _, f := range findings {
						fmt.Fprintf(e.stderr, "%s: %s\n", *file, f)
					}
					fmt.Fprintf(e.stderr, "wfpsim apply: refusing a policy that would block all traffic (it would cut off remote shells too); add --force to apply it anyway\n")
					return errReported
				}
				if err := needsWindows(e, "apply"); err != nil {
					return err
				}
				return applyBFE(e, *file, doc, *persistent)
			}
		},
	}
}

func stateCommand() *command {
	return &command{
		name:    "state",
		args:    "[--format yaml|netsh]",
		summary: "print the real Base Filtering Engine's objects (Windows)",
		help: `
state enumerates the providers, sublayers, callouts and filters of the real
Base Filtering Engine of this Windows machine and prints them as a policy
document (--format yaml, which "wfpsim check" and "wfpsim replay" read) or as
"netsh wfp show state" XML (--format netsh). Needs an administrator shell.

Examples:
  wfpsim state > machine.yaml
  wfpsim state --format netsh
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			format := fs.String("format", "yaml", "output `format`: yaml or netsh")
			return func(e *env, args []string) error {
				if len(args) != 0 {
					return usagef("state takes no argument (run 'wfpsim state -h')")
				}
				if *format != "yaml" && *format != "netsh" {
					return usagef("state: unknown format %q: want yaml or netsh", *format)
				}
				if err := needsWindows(e, "state"); err != nil {
					return err
				}
				return stateBFE(e, *format)
			}
		},
	}
}

func removeCommand() *command {
	return &command{
		name:    "remove",
		args:    "",
		summary: "delete the objects wfpsim apply added (Windows)",
		help: `
remove deletes from the real Base Filtering Engine the objects that
"wfpsim apply --persistent" put under the provider "wfpsim" (filters, then
callouts, sublayers and the provider), in one transaction. Needs an
administrator shell.

Examples:
  wfpsim remove
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				if len(args) != 0 {
					return usagef("remove takes no argument (run 'wfpsim remove -h')")
				}
				if err := needsWindows(e, "remove"); err != nil {
					return err
				}
				return removeBFE(e)
			}
		},
	}
}
