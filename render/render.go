package render

import (
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// Profile is the colour profile views are drawn with.
type Profile uint8

const (
	// ProfilePlain is plain ASCII: no escape sequences, ASCII borders and marks.
	ProfilePlain Profile = iota
	// ProfileANSI is the 16 basic colours.
	ProfileANSI
	// ProfileANSI256 is the 256-colour palette.
	ProfileANSI256
	// ProfileTrueColor is 24-bit colour.
	ProfileTrueColor
)

// String returns "plain", "ansi", "ansi256" or "truecolor".
func (p Profile) String() string {
	switch p {
	case ProfileANSI:
		return "ansi"
	case ProfileANSI256:
		return "ansi256"
	case ProfileTrueColor:
		return "truecolor"
	}
	return "plain"
}

// Detect returns the profile for writing to w: ProfilePlain unless w is a
// terminal and NO_COLOR is unset; on a terminal, what the environment (TERM,
// COLORTERM) supports.
func Detect(w io.Writer) Profile {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return ProfilePlain
	}
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return ProfilePlain
	}
	switch termenv.NewOutput(f).EnvColorProfile() {
	case termenv.TrueColor:
		return ProfileTrueColor
	case termenv.ANSI256:
		return ProfileANSI256
	case termenv.ANSI:
		return ProfileANSI
	}
	return ProfilePlain
}

// Options configure a view. The zero value draws plain ASCII, 80 columns wide.
type Options struct {
	Profile Profile
	// Width is the width to fit; 0 means 80. Views never go below 60 columns.
	Width int
	// Values shows a layer's incoming values above its arbitration table.
	Values bool
	// Highlight marks one step of a Stack view (1-based; 0: none), the step
	// whose arbitration table a reader is about to open.
	Highlight int
}

func (o Options) width() int {
	switch {
	case o.Width == 0:
		return 80
	case o.Width < 60:
		return 60
	}
	return o.Width
}

// theme holds the styles and glyphs of one profile.
type theme struct {
	plain bool
	r     *lipgloss.Renderer
	// styles
	title, dim, bold, permit, block, hard, veto, discard, none, sel, tier lipgloss.Style
	border                                                                lipgloss.Border
	// glyphs
	down, up, pass, stop, matched, notMatched, bar string
}

func newTheme(p Profile) *theme {
	r := lipgloss.NewRenderer(io.Discard)
	t := &theme{r: r}
	switch p {
	case ProfileANSI:
		r.SetColorProfile(termenv.ANSI)
	case ProfileANSI256:
		r.SetColorProfile(termenv.ANSI256)
	case ProfileTrueColor:
		r.SetColorProfile(termenv.TrueColor)
	default:
		r.SetColorProfile(termenv.Ascii)
		t.plain = true
	}
	r.SetHasDarkBackground(true)
	s := r.NewStyle
	t.title = s().Bold(true)
	t.bold = s().Bold(true)
	t.dim = s().Foreground(lipgloss.Color("8"))
	t.permit = s().Foreground(lipgloss.Color("2"))
	t.block = s().Foreground(lipgloss.Color("1")).Bold(true)
	t.hard = s().Bold(true)
	t.veto = s().Foreground(lipgloss.Color("5")).Bold(true)
	t.discard = s().Foreground(lipgloss.Color("3"))
	t.none = s().Foreground(lipgloss.Color("8"))
	t.sel = s().Reverse(true)
	t.tier = s().Foreground(lipgloss.Color("12")).Bold(true)
	if t.plain {
		t.border = lipgloss.ASCIIBorder()
		t.down, t.up, t.pass, t.stop = "v", "^", "|", "X"
		t.matched, t.notMatched, t.bar = "+", "-", "#"
	} else {
		t.border = lipgloss.RoundedBorder()
		t.down, t.up, t.pass, t.stop = "▼", "▲", "│", "✖"
		t.matched, t.notMatched, t.bar = "●", "○", "█"
	}
	return t
}

// box draws lines inside a border of the given outer width.
func (t *theme) box(lines []string, width int) string {
	return t.r.NewStyle().
		Border(t.border).
		BorderForeground(lipgloss.Color("8")).
		Padding(0, 1).
		Width(width - 2).
		Render(strings.Join(lines, "\n"))
}

// fit cuts s (plain text) to n columns, marking the cut with "~".
func fit(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= n {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && lipgloss.Width(string(rs))+1 > n {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "~"
}

// pad fills plain s with spaces to n columns (cutting it when longer).
func pad(s string, n int) string {
	s = fit(s, n)
	if w := lipgloss.Width(s); w < n {
		s += strings.Repeat(" ", n-w)
	}
	return s
}

// wrap breaks plain s into lines of at most n columns at spaces.
func wrap(s string, n int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case lipgloss.Width(line)+1+lipgloss.Width(w) <= n:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
			for lipgloss.Width(line) > n {
				rs := []rune(line)
				out = append(out, string(rs[:n]))
				line = string(rs[n:])
			}
		}
		out = append(out, line)
	}
	return out
}
