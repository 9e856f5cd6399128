package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
)

// format is the --format flag: table, tsv or json.
type format string

const (
	formatTable format = "table"
	formatTSV   format = "tsv"
	formatJSON  format = "json"
)

func (f *format) String() string { return string(*f) }

func (f *format) Set(s string) error {
	switch v := format(strings.ToLower(s)); v {
	case formatTable, formatTSV, formatJSON:
		*f = v
		return nil
	}
	return fmt.Errorf("unknown format %q (want table, tsv or json)", s)
}

// addFormatFlag declares --format on fs, defaulting to table.
func addFormatFlag(fs *flag.FlagSet) *format {
	f := formatTable
	fs.Var(&f, "format", "output `format`: table, tsv or json")
	return &f
}

// grid is tabular output: the header, the rows, and the JSON form.
type grid struct {
	title  string   // printed above a table (not in tsv/json)
	header []string // tsv header and table header
	rows   [][]string
	json   any // the value --format json encodes
}

func (e *env) write(f format, g grid) error {
	switch f {
	case formatJSON:
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(g.json)
	case formatTSV:
		var b strings.Builder
		b.WriteString(strings.Join(g.header, "\t"))
		b.WriteByte('\n')
		for _, r := range g.rows {
			for i, c := range r {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(tsvCell(c))
			}
			b.WriteByte('\n')
		}
		_, err := fmt.Fprint(e.stdout, b.String())
		return err
	}
	if g.title != "" {
		fmt.Fprintln(e.stdout, g.title)
	}
	if e.styled {
		return e.writeStyled(g)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(g.header, "\t"))
	for _, r := range g.rows {
		fmt.Fprintln(tw, strings.TrimRight(strings.Join(r, "\t"), "\t"))
	}
	return tw.Flush()
}

func (e *env) writeStyled(g grid) error {
	head := lipgloss.NewStyle().Bold(true).Padding(0, 1).Foreground(lipgloss.Color("12"))
	cell := lipgloss.NewStyle().Padding(0, 1)
	t := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(lipgloss.NewStyle().Foreground(lipgloss.Color("8"))).
		Headers(g.header...).
		Rows(g.rows...).
		StyleFunc(func(row, _ int) lipgloss.Style {
			if row == table.HeaderRow {
				return head
			}
			return cell
		})
	_, err := fmt.Fprintln(e.stdout, t.Render())
	return err
}

func tsvCell(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
