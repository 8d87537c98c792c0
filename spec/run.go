package spec

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/backend"
	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/trace"
)

// Runner executes the commands of one script on a backend. It is what
// both the tests (through datadriven) and RunFile use.
type Runner struct {
	file  string
	impl  string // the backend's registered name
	b     backend.Backend
	log   []trace.Event // events since the last trace command
	kinds map[string]model.SocketType
	// received is the last message each socket received, for answer.
	received map[string]model.Message
	// unsupported is the backend.ErrUnsupported of the last command, if any.
	unsupported error
}

// NewRunner opens a fresh backend of the named kind for one script; file
// names the script in errors.
func NewRunner(file, impl string) (*Runner, error) {
	b, err := backend.Open(impl)
	if err != nil {
		return nil, err
	}
	return &Runner{file: file, impl: impl, b: b, kinds: map[string]model.SocketType{}, received: map[string]model.Message{}}, nil
}

// Backend returns the backend the runner drives.
func (r *Runner) Backend() backend.Backend { return r.b }

// Close shuts the backend down.
func (r *Runner) Close() error { return r.b.Shutdown() }

// Exec runs one command and returns its output, one line per line, each
// ending in a newline. An error is a failure to run the command at all
// (the backend failed or panicked); it names the script's line.
func (r *Runner) Exec(c *Command) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = "", &Error{r.file, c.Line, fmt.Sprintf("%s panicked: %v", r.impl, p)}
		}
	}()
	lines, err := r.exec(c)
	if err != nil {
		return "", &Error{r.file, c.Line, err.Error()}
	}
	evs := r.b.Events()
	r.log = append(r.log, evs...)
	if c.Name != "trace" {
		for _, e := range evs {
			if !echo[e.Kind] {
				lines = append(lines, EventLine(e))
			}
		}
	}
	if len(lines) == 0 {
		lines = []string{"ok"}
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// echo lists the events that only repeat what a command's own output says.
var echo = map[model.EventKind]bool{
	model.EventDeliver: true, model.EventReceive: true, model.EventReply: true,
	model.EventError: true, model.EventCrash: true, model.EventRestart: true,
	model.EventEnqueue: true, model.EventCut: true, model.EventHeal: true,
}

// result turns a socket call's error into an output line.
func result(err error) ([]string, error) {
	switch {
	case err == nil:
		return nil, nil
	case errors.Is(err, backend.ErrBackend):
		return nil, err
	default:
		return []string{"error: " + backend.Errno(err)}, nil
	}
}

// result is the package's result, remembering an backend.ErrUnsupported so
// that Run can report the script as not applicable on the backend.
func (r *Runner) result(err error) ([]string, error) {
	if errors.Is(err, backend.ErrUnsupported) {
		r.unsupported = err
	}
	return result(err)
}

func (r *Runner) exec(c *Command) ([]string, error) {
	r.unsupported = nil
	b := r.b
	switch c.Name {
	case "new-req", "new-rep", "new-dealer":
		err := b.Open(c.sock, c.kind, c.opts)
		if err == nil {
			r.kinds[c.sock] = c.kind
		}
		return r.result(err)
	case "bind":
		return r.result(b.Bind(c.sock, c.endpoint))
	case "connect":
		return r.result(b.Connect(c.sock, c.endpoint))
	case "disconnect":
		return r.result(b.Disconnect(c.sock, c.endpoint))
	case "send":
		return r.result(b.Send(c.sock, c.frames))
	case "recv":
		m, err := b.Recv(c.sock)
		if err != nil {
			return r.result(err)
		}
		r.received[c.sock] = m
		return []string{Frames(m)}, nil
	case "answer":
		// The envelope of the last message received, up to its delimiter,
		// then the frames: a raw peer answering with the request id it
		// was sent, which libzmq draws at random (F7).
		last, ok := r.received[c.sock]
		if !ok {
			return []string{"error: nothing to answer: " + c.sock + " has received nothing"}, nil
		}
		i := slices.Index(last, model.Delimiter)
		if i < 0 {
			return []string{"error: nothing to answer: the last message " + c.sock + " received has no delimiter"}, nil
		}
		return r.result(b.Send(c.sock, append(slices.Clone(last[:i+1]), c.frames...)))
	case "poll":
		rd, wr, err := b.Poll(c.sock)
		if err != nil {
			return r.result(err)
		}
		return []string{fmt.Sprintf("readable=%v writable=%v", rd, wr)}, nil
	case "advance":
		return r.result(b.Advance(c.dur))
	case "crash":
		return r.result(b.Crash(c.sock))
	case "restart":
		return r.result(b.Restart(c.sock))
	case "close":
		return r.result(b.Close(c.sock))
	case "cut":
		return r.result(b.Cut(c.sock, c.sock2))
	case "heal":
		return r.result(b.Heal(c.sock, c.sock2))
	case "state":
		st, ok := b.(backend.Stater)
		if !ok {
			return r.result(fmt.Errorf("%w: the state command (no backend.Stater)", backend.ErrUnsupported))
		}
		s, err := st.State(c.sock)
		if err != nil {
			return r.result(err)
		}
		return stateLines(s), nil
	case "choose":
		cs, ok := b.(backend.ChoiceScripter)
		if !ok {
			return r.result(fmt.Errorf("%w: the choose command (no backend.ChoiceScripter)", backend.ErrUnsupported))
		}
		for _, a := range c.answers {
			k := a.k
			if a.last {
				k = -1
			}
			cs.Answer(a.c, k)
		}
		return nil, nil
	case "enqueue":
		q, ok := b.(backend.Queuer)
		if !ok {
			return r.result(fmt.Errorf("%w: the enqueue command (no backend.Queuer)", backend.ErrUnsupported))
		}
		n, err := q.Enqueue(c.sock, c.frames)
		if err != nil {
			return r.result(err)
		}
		return []string{fmt.Sprintf("queued=%d", n)}, nil
	case "queue":
		q, ok := b.(backend.Queuer)
		if !ok {
			return r.result(fmt.Errorf("%w: the queue command (no backend.Queuer)", backend.ErrUnsupported))
		}
		items, err := q.Queue(c.sock)
		if err != nil {
			return r.result(err)
		}
		var parts []string
		for _, m := range items {
			parts = append(parts, Frames(m))
		}
		return []string{fmt.Sprintf("queue: %d waiting %s", len(items), strings.Join(parts, " "))}, nil
	case "trace":
		evs := append(r.log, r.b.Events()...)
		r.log = nil
		var lines []string
		for _, e := range evs {
			lines = append(lines, EventLine(e))
		}
		if len(lines) == 0 {
			lines = []string{"no events"}
		}
		return lines, nil
	case "reset":
		if err := r.b.Shutdown(); err != nil {
			return nil, err
		}
		nb, err := backend.Open(r.impl)
		if err != nil {
			return nil, err
		}
		r.b, r.log = nb, nil
		clear(r.kinds)
		clear(r.received)
		return nil, nil
	}
	return nil, fmt.Errorf("unknown command %q", c.Name)
}

// Frames renders a message as the scripts print it: its frames as Go
// string literals, e.g. ["" "r1"].
func Frames(m model.Message) string {
	parts := make([]string, len(m))
	for i, f := range m {
		parts[i] = strconv.Quote(f)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// EventLine renders a trace event compactly, time first:
//
//	1ms c send "r1" peer=tcp://s:1
//	3ms s drop "r1" peer=c (request held by server that crashed)
func EventLine(e trace.Event) string {
	var b strings.Builder
	b.WriteString(e.At.String())
	if e.Actor != "" {
		b.WriteString(" " + e.Actor)
	}
	b.WriteString(" " + string(e.Kind))
	if e.HasMsg {
		if e.Kind == model.EventChoice {
			b.WriteString(" " + e.Msg)
		} else {
			b.WriteString(" " + strconv.Quote(e.Msg))
		}
	}
	if e.HasQueue {
		fmt.Fprintf(&b, " queue=%d", e.Queue)
	}
	if e.Peer != "" {
		b.WriteString(" peer=" + e.Peer)
	}
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	return b.String()
}

// IsEventLine reports whether an output line is an event line (it starts
// with a time) rather than a command's result.
func IsEventLine(line string) bool {
	first, _, _ := strings.Cut(line, " ")
	_, err := time.ParseDuration(first)
	return err == nil
}

func stateLines(s model.SocketState) []string {
	head := s.Type.String()
	switch {
	case s.AwaitingReply:
		head += " awaiting-reply request=" + Frames(s.Request)
	case s.OwesReply:
		head += " owes-reply held=" + Frames(s.Held)
	case s.Type != model.DEALER:
		head += " idle"
	}
	lines := []string{head}
	for _, p := range s.Pipes {
		l := fmt.Sprintf("pipe %s out=%d in=%d", p.Peer, p.Out, p.In)
		switch {
		case p.Destroyed:
			l += " destroyed"
		case p.Connected:
			l += " connected"
		default:
			l += " not-connected"
		}
		lines = append(lines, l)
	}
	if len(s.Pipes) == 0 {
		lines = append(lines, "no pipes")
	}
	return lines
}

// Result is the outcome of one script on one backend.
type Result struct {
	Path    string
	Backend string
	Header  Header
	// Skipped: the script does not declare the backend; nothing ran.
	Skipped bool
	// NotApplicable, when set, says which command the backend does not
	// support ("line 12: poll client: unsupported by this backend: ...");
	// the script stopped there and Commands ends before it.
	NotApplicable string
	// Observes is false when only result lines were compared (backend.Observer).
	Observes bool
	Commands []CommandResult
}

// CommandResult is one command's output against its expected output.
type CommandResult struct {
	Line     int
	Command  string
	Expected string
	Actual   string
	Pass     bool
}

// Passed reports whether every command produced its expected output.
func (r Result) Passed() bool { return len(r.Failures()) == 0 }

// Failures returns the commands whose output differed.
func (r Result) Failures() []CommandResult {
	var out []CommandResult
	for _, c := range r.Commands {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// RunFile parses the script at path and runs it on the named backend.
func RunFile(path, impl string) (Result, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{Path: path, Backend: impl}, err
	}
	s, err := Parse(path, src)
	if err != nil {
		return Result{Path: path, Backend: impl}, err
	}
	return Run(s, impl)
}

// Run runs a parsed script on the named backend and compares each
// command's output with the expected output. A script that does not
// declare the backend is skipped. On a backend that does not observe
// events (see backend.Observer) only result lines are compared. The script stops
// at the first command the backend does not support (backend.ErrUnsupported), and
// Result.NotApplicable names it.
func Run(s *Script, impl string) (Result, error) {
	res := Result{Path: s.Path, Backend: impl, Header: s.Header}
	if !s.Header.Supports(impl) {
		res.Skipped = true
		return res, nil
	}
	r, err := NewRunner(s.Path, impl)
	if err != nil {
		return res, err
	}
	defer r.Close()
	res.Observes = true
	if o, ok := r.b.(backend.Observer); ok {
		res.Observes = o.Observes()
	}
	// A backend that does not observe is a real one: its request ids
	// start at random, so both sides' ids are compared from their first.
	var want, got RequestIDs
	for _, c := range s.Commands {
		out, err := r.Exec(c)
		if err != nil {
			return res, err
		}
		if r.unsupported != nil {
			res.NotApplicable = fmt.Sprintf("line %d: %s: %v", c.Line, c.Text, r.unsupported)
			break
		}
		observes := true
		if o, ok := r.b.(backend.Observer); ok {
			observes = o.Observes()
		}
		res.Commands = append(res.Commands, CommandResult{
			Line: c.Line, Command: c.Text, Expected: c.Expected, Actual: out,
			Pass: same(c.Expected, out, observes, &want, &got),
		})
	}
	return res, nil
}

// same compares a command's expected and actual output: all of it on a
// backend that observes events, else its result lines, request ids
// relative to each side's first (want and got keep them per script).
func same(expected, actual string, observes bool, want, got *RequestIDs) bool {
	if observes {
		return expected == actual
	}
	return want.Relative(resultLines(expected)) == got.Relative(resultLines(actual))
}

// resultLines is output without its event lines ("ok" when nothing is
// left): what a backend that does not observe events is compared on. A
// trace on such a backend prints "no events", which counts as nothing.
func resultLines(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !IsEventLine(l) && l != "no events" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return "ok"
	}
	return strings.Join(out, "\n")
}
