package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"

	"github.com/wfpsim/wfpsim/engine"
	"github.com/wfpsim/wfpsim/render"
	"github.com/wfpsim/wfpsim/replay"
)

// stepCap bounds the packets replay --step keeps (each with its steps and traces).
const stepCap = 100_000

// stepTerminal reports whether replay --step can open its interactive view:
// standard input and output are terminals. Tests replace it.
var stepTerminal = func(e *env) bool {
	return e.stdout == any(os.Stdout) &&
		term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

var errStepCap = errors.New("step: packet cap reached")

// stepPacket is what the step view keeps of one replayed packet.
type stepPacket struct {
	title     string // the packet line, spaces collapsed
	flow      string
	direction string
	verdict   string
	reason    string
	steps     []engine.Step
}

// collectSteps replays the captures and keeps up to limit packets (those with
// verdict only, when only is set); note says what was left out.
func collectSteps(e *env, eng *engine.Engine, opts replay.Options, files []string, only string, limit int) (pkts []stepPacket, note string, err error) {
	opts.Trace = true
	r := replay.New(eng, opts)
	if err := r.Start(files); err != nil {
		return nil, "", err
	}
	if r.Inference != "" {
		fmt.Fprintf(e.stderr, "wfpsim: %s\n", r.Inference)
	}
	var problems []string
	capped := false
	for _, file := range files {
		err := r.Replay(file, func(pr *replay.PacketResult) error {
			if pr.Skipped || (only != "" && pr.Verdict != only) {
				return nil
			}
			if len(pkts) == limit {
				capped = true
				return errStepCap
			}
			line := pr.Line(false)
			if len(files) > 1 {
				line = pr.File + ":" + line
			}
			pkts = append(pkts, stepPacket{
				title: strings.Join(strings.Fields(line), " "), flow: pr.Flow, direction: pr.Direction,
				verdict: pr.Verdict, reason: pr.Reason, steps: pr.Clone().Steps,
			})
			return nil
		}, func(p replay.Problem) {
			problems = append(problems, p.String())
		})
		if errors.Is(err, errStepCap) {
			break
		}
		if err != nil {
			return nil, "", err
		}
	}
	r.Stack().Close()
	var notes []string
	if capped {
		notes = append(notes, fmt.Sprintf("showing the first %d packets only (the step view keeps at most %d)", limit, limit))
	}
	if len(problems) > 0 {
		notes = append(notes, fmt.Sprintf("%d packets could not be replayed (first: %s)", len(problems), problems[0]))
	}
	return pkts, strings.Join(notes, "; "), nil
}

func runStep(e *env, eng *engine.Engine, opts replay.Options, files []string, only string) error {
	pkts, note, err := collectSteps(e, eng, opts, files, only, stepCap)
	if err != nil {
		return err
	}
	if len(pkts) == 0 {
		return fmt.Errorf("replay --step: no packets to step through")
	}
	m := newStepModel(pkts, render.Detect(os.Stdout), note)
	_, err = tea.NewProgram(m, tea.WithAltScreen()).Run()
	return err
}

// stepMode is what the step view shows.
type stepMode int

const (
	modeStack       stepMode = iota // the stack with the packet's path
	modeTrace                       // the arbitration traces as text
	modeArbitration                 // one layer's arbitration table
)

type stepKeys struct {
	Next, Prev, NextBlock, PrevBlock, Up, Down, Open, Back, Toggle, Flow, PageDown, PageUp, Help, Quit key.Binding
}

func newStepKeys() stepKeys {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return stepKeys{
		Next:      b([]string{"n", "right", "l"}, "n", "next"),
		Prev:      b([]string{"p", "left", "h"}, "p", "previous"),
		NextBlock: b([]string{"b"}, "b", "next block"),
		PrevBlock: b([]string{"B"}, "B", "previous block"),
		Up:        b([]string{"up", "k"}, "k", "layer up"),
		Down:      b([]string{"down", "j"}, "j/k", "layer"),
		Open:      b([]string{"enter"}, "enter", "table"),
		Back:      b([]string{"esc", "backspace"}, "esc", "back to the stack"),
		Toggle:    b([]string{"tab", "t"}, "tab", "trace"),
		Flow:      b([]string{"f"}, "f", "flow"),
		PageDown:  b([]string{"pgdown", "ctrl+d", " "}, "pgdn", "scroll"),
		PageUp:    b([]string{"pgup", "ctrl+u"}, "pgup", "scroll"),
		Help:      b([]string{"?"}, "?", "more"),
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp and FullHelp implement help.KeyMap.
func (k stepKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Next, k.Prev, k.NextBlock, k.Down, k.Open, k.Toggle, k.Flow, k.Help}
}

func (k stepKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.NextBlock, k.PrevBlock},
		{k.Up, k.Down, k.Open, k.Back},
		{k.Toggle, k.Flow, k.PageDown, k.PageUp},
		{k.Help, k.Quit},
	}
}

// stepModel is the bubbletea model of replay --step.
type stepModel struct {
	pkts    []stepPacket
	visible []int // indices of pkts shown (all, or one flow's)
	pos     int   // index into visible
	sel     int   // selected step of the current packet
	mode    stepMode
	flow    string // the flow filter, "" for none
	note    string // a message under the view
	profile render.Profile
	width   int
	height  int
	keys    stepKeys
	help    help.Model
	vp      viewport.Model
}

func newStepModel(pkts []stepPacket, profile render.Profile, note string) *stepModel {
	m := &stepModel{pkts: pkts, profile: profile, note: note, width: 80, height: 24, keys: newStepKeys(), help: help.New()}
	m.vp = viewport.New(80, 24)
	m.vp.KeyMap = viewport.KeyMap{} // the model handles the keys
	if profile == render.ProfilePlain {
		m.help.Styles = help.Styles{}
		m.help.ShortSeparator = "  "
		m.help.Ellipsis = "..."
	}
	m.showAll()
	m.resize()
	m.refresh()
	return m
}

func (m *stepModel) showAll() {
	m.visible = m.visible[:0]
	for i := range m.pkts {
		m.visible = append(m.visible, i)
	}
}

func (m *stepModel) cur() *stepPacket { return &m.pkts[m.visible[m.pos]] }

func (m *stepModel) Init() tea.Cmd { return nil }

func (m *stepModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if msg.Width > 0 && msg.Height > 0 {
			m.width, m.height = msg.Width, msg.Height
		}
		m.resize()
		m.refresh()
		return m, nil
	case tea.KeyMsg:
		k := m.keys
		m.note = ""
		switch {
		case key.Matches(msg, k.Quit):
			return m, tea.Quit
		case key.Matches(msg, k.Help):
			m.help.ShowAll = !m.help.ShowAll
			m.resize()
		case key.Matches(msg, k.Next):
			m.move(m.pos + 1)
		case key.Matches(msg, k.Prev):
			m.move(m.pos - 1)
		case key.Matches(msg, k.NextBlock):
			m.findBlock(1)
		case key.Matches(msg, k.PrevBlock):
			m.findBlock(-1)
		case key.Matches(msg, k.Down):
			m.selectStep(m.sel + 1)
		case key.Matches(msg, k.Up):
			m.selectStep(m.sel - 1)
		case key.Matches(msg, k.Open):
			m.open()
		case key.Matches(msg, k.Back):
			m.mode = modeStack
		case key.Matches(msg, k.Toggle):
			if m.mode == modeStack {
				m.mode = modeTrace
			} else {
				m.mode = modeStack
			}
		case key.Matches(msg, k.Flow):
			m.toggleFlow()
		case key.Matches(msg, k.PageDown):
			m.vp.HalfPageDown()
			return m, nil
		case key.Matches(msg, k.PageUp):
			m.vp.HalfPageUp()
			return m, nil
		default:
			return m, nil
		}
		m.refresh()
	}
	return m, nil
}

func (m *stepModel) move(pos int) {
	switch {
	case pos < 0:
		m.note = "this is the first packet"
		return
	case pos >= len(m.visible):
		m.note = "this is the last packet"
		return
	}
	m.pos, m.sel = pos, 0
	if m.mode == modeArbitration {
		m.mode = modeStack
	}
	m.vp.GotoTop()
}

func (m *stepModel) findBlock(dir int) {
	for i := m.pos + dir; i >= 0 && i < len(m.visible); i += dir {
		if m.pkts[m.visible[i]].verdict == "block" {
			m.move(i)
			return
		}
	}
	if dir > 0 {
		m.note = "no blocked packet after this one"
	} else {
		m.note = "no blocked packet before this one"
	}
}

func (m *stepModel) selectStep(i int) {
	n := len(m.cur().steps)
	if n == 0 || i < 0 || i >= n {
		return
	}
	m.sel = i
	if m.mode == modeTrace {
		m.mode = modeStack
	}
}

func (m *stepModel) open() {
	steps := m.cur().steps
	if len(steps) == 0 {
		m.note = "this packet met no layer"
		return
	}
	if steps[m.sel].Trace == nil {
		m.note = "no trace for this layer"
		return
	}
	m.mode = modeArbitration
	m.vp.GotoTop()
}

func (m *stepModel) toggleFlow() {
	curIdx := m.visible[m.pos]
	if m.flow != "" {
		m.flow = ""
		m.showAll()
	} else {
		m.flow = m.pkts[curIdx].flow
		m.visible = m.visible[:0]
		for i, p := range m.pkts {
			if p.flow == m.flow {
				m.visible = append(m.visible, i)
			}
		}
	}
	for i, v := range m.visible {
		if v == curIdx {
			m.pos = i
		}
	}
}

// chrome is the lines around the viewport: two header lines, the note and the help.
func (m *stepModel) chrome() int {
	return 3 + lipgloss.Height(m.help.View(m.keys))
}

func (m *stepModel) resize() {
	m.help.Width = m.width
	m.vp.Width = m.width
	m.vp.Height = max(m.height-m.chrome(), 3)
}

func (m *stepModel) viewWidth() int { return min(max(m.width, 60), 100) }

// refresh renders the current packet into the viewport.
func (m *stepModel) refresh() {
	p := m.cur()
	opts := render.Options{Profile: m.profile, Width: m.viewWidth()}
	var content string
	switch m.mode {
	case modeArbitration:
		opts.Values = true
		content = render.Arbitration(p.steps[m.sel].Trace, opts)
	case modeTrace:
		var b strings.Builder
		for i, s := range p.steps {
			name := "?"
			if s.Layer != nil {
				name = s.Layer.Name
			}
			fmt.Fprintf(&b, "%2d %s  %s  %s\n", i+1, name, render.Mark(s), s.Note)
			if s.Trace != nil {
				for _, l := range strings.Split(strings.TrimRight(s.Trace.String(), "\n"), "\n") {
					b.WriteString("     " + l + "\n")
				}
			}
		}
		if len(p.steps) == 0 {
			b.WriteString("the packet met no layer: " + p.reason + "\n")
		}
		content = b.String()
	default:
		opts.Highlight = m.sel + 1
		content = render.Stack(p.steps, render.Packet{Direction: p.direction, Verdict: p.verdict, Reason: p.reason}, opts)
	}
	m.vp.SetContent(content)
}

func (m *stepModel) View() string {
	p := m.cur()
	where := fmt.Sprintf("packet %d of %d", m.pos+1, len(m.visible))
	if m.flow != "" {
		where += " in flow " + m.flow
	}
	mode := "stack"
	switch m.mode {
	case modeTrace:
		mode = "trace"
	case modeArbitration:
		mode = "arbitration of " + p.steps[m.sel].Layer.ShortName
	}
	head := lipgloss.NewStyle()
	if m.profile != render.ProfilePlain {
		head = head.Bold(true)
	}
	w := max(m.width, 20)
	lines := []string{
		head.Render(fitLine(where+" - "+mode, w)),
		fitLine(p.title, w),
		m.vp.View(),
		fitLine(m.note, w),
		m.help.View(m.keys),
	}
	return strings.Join(lines, "\n")
}

func fitLine(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r)) > w-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "~"
}
