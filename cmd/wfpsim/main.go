// Command wfpsim explores and simulates the Windows Filtering Platform (WFP).
//
// Run "wfpsim help" for the commands.
package main

import (
	"os"

	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// stdoutIsTerminal reports whether styled (lipgloss) output may be written:
// stdout is a terminal and NO_COLOR is not set.
func stdoutIsTerminal() bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return term.IsTerminal(int(os.Stdout.Fd()))
}
