package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. To add one, write cmd_NAME.go with a
// func NAMECommand() *command and list it in commands below.
type command struct {
	name    string
	args    string // argument synopsis after the name, "LAYER [--format F]"
	summary string // one line for the command list
	help    string // what the command teaches, with examples
	// flags declares the command's flags on fs; it returns the function that
	// runs the command with the positional arguments.
	flags func(fs *flag.FlagSet) func(e *env, args []string) error
}

// commands is the command table, in the order "wfpsim help" lists them.
func commands() []*command {
	return []*command{
		layersCommand(),
		fieldsCommand(),
		conditionsCommand(),
		checkCommand(),
		explainCommand(),
		replayCommand(),
		importCommand(),
		exportCommand(),
		diffCommand(),
		applyCommand(),
		stateCommand(),
		removeCommand(),
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// env is what a command writes to.
type env struct {
	stdout, stderr io.Writer
	styled         bool // stdout is a terminal and NO_COLOR is unset: lipgloss tables
}

// usageError is bad input from the user: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// styledOutput decides whether tables go through lipgloss; tests replace it.
var styledOutput = func(stdout io.Writer) bool {
	return stdout == io.Writer(os.Stdout) && stdoutIsTerminal()
}

func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, styled: styledOutput(stdout)}
	if len(args) == 0 {
		writeMainUsage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			c := lookupCommand(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "wfpsim: unknown command %q; run 'wfpsim help'\n", args[1])
				return exitUsage
			}
			writeCommandHelp(stdout, c, nil)
			return exitOK
		}
		writeMainUsage(stdout)
		return exitOK
	}
	c := lookupCommand(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "wfpsim: unknown command %q\n\n", args[0])
		writeMainUsage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("wfpsim "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runFn := c.flags(fs)
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		writeCommandHelp(stdout, c, fs)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wfpsim %s: %v\n\n", c.name, err)
		writeCommandUsage(stderr, c, fs)
		return exitUsage
	}
	if err := runFn(e, pos); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "wfpsim: %v\n", err)
			return exitUsage
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "wfpsim: %v\n", err)
		}
		return exitFailure
	}
	return exitOK
}

// parseInterspersed parses flags anywhere among the arguments
// ("fields ALE_AUTH_CONNECT_V4 --format tsv"); "--" ends flag parsing. The arrow
// "->" of a connection ("tcp A '->' B") is an argument, not a flag.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == "->" {
			pos, err := parseInterspersed(fs, args[:i])
			if err != nil {
				return nil, err
			}
			rest, err := parseInterspersed(fs, args[i+1:])
			if err != nil {
				return nil, err
			}
			return append(append(pos, a), rest...), nil
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

const mainIntro = `wfpsim is a simulator of the Windows Filtering Platform (WFP), the packet
filtering engine of Windows that Windows Defender Firewall, IPsec and third-party
firewalls are built on.

WFP in brief:
  layer      a point in the TCP/IP stack where the filter engine classifies
             traffic, e.g. FWPM_LAYER_ALE_AUTH_CONNECT_V4 (an outbound IPv4
             connection is being authorized). Each layer has a GUID (its key) and
             a run-time number (its id).
  field      one of the incoming values a layer hands to the engine, in a fixed
             order: the application id, the remote address, the remote port...
  condition  what a filter tests: a field key (FWPM_CONDITION_IP_REMOTE_PORT), a
             match type (equal, range, ...) and a value. Each layer documents
             which conditions it accepts.
  filter     conditions plus an action (permit, block, callout), with a weight,
             in a sublayer; the engine arbitrates between sublayers.
`

func writeMainUsage(w io.Writer) {
	fmt.Fprint(w, mainIntro)
	fmt.Fprint(w, "\nUsage:\n  wfpsim COMMAND [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  wfpsim layers                        every filtering layer
  wfpsim fields ALE_AUTH_CONNECT_V4    the incoming values of one layer
  wfpsim conditions ALE_AUTH_CONNECT_V4 --format tsv

Run "wfpsim help COMMAND" or "wfpsim COMMAND -h" for more about a command.
Names may be written with or without their C prefix, in any letter case.
`)
}

func writeCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage:\n  wfpsim %s %s\n", c.name, c.args)
	if fs == nil {
		fs = flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
	}
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
	}
}

func writeCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "wfpsim %s: %s\n\n", c.name, c.summary)
	fmt.Fprint(w, strings.TrimLeft(c.help, "\n"))
	fmt.Fprintln(w)
	writeCommandUsage(w, c, fs)
}
