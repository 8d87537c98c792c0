package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Error is a script error: a parse error, or a command that could not run.
// It always names the script and the line of the command at fault.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Script is one parsed scenario script.
type Script struct {
	// Path is the file the script was read from, as given to Parse.
	Path     string
	Header   Header
	Commands []*Command
}

// Header is what the comment lines at the top of a script say about it.
type Header struct {
	// Facts are the facts the script shows, "F1".."F24" (the "# fact:" line).
	Facts []string
	// Source is where the fact comes from (the "# source:" line).
	Source string
	// Backends lists the backends the script makes sense on (the
	// "# backends:" line); without that line, only "sim".
	Backends []string
	// Statement is the rest of the header comments, in plain words, with
	// the "# " prefixes removed; paragraphs are separated by blank lines.
	Statement string
}

// Supports reports whether the script declares backend.
func (h Header) Supports(backend string) bool { return slices.Contains(h.Backends, backend) }

// Command is one directive of a script and its expected output.
type Command struct {
	Line int    // line of the directive, from 1
	Text string // the directive as written, continuation lines joined
	Name string // the command, e.g. "send"
	Args []string
	// Expected is the output below the ---- line, each line ending in a
	// newline; HasExpected is false when the command has no ---- line.
	Expected    string
	HasExpected bool

	// Parsed arguments, filled in by Parse for the interpreter.
	sock, sock2 string
	endpoint    string
	kind        model.SocketType
	opts        model.Options
	frames      model.Message
	dur         time.Duration
	answers     []answer
}

// answer is one scripted answer of the chooser: choice c gets k, or n-1
// when last is set.
type answer struct {
	c    model.Choice
	k    int
	last bool
}

// Limits that keep any script, however odd, quick to run.
const (
	maxLine      = 64 << 10 // as bufio.Scanner, which datadriven reads with
	maxAdvance   = time.Hour
	maxHWM       = 1_000_000
	maxReconnect = time.Hour
	maxAnswer    = 1 << 31
)

// token is one word of a directive; quoted words are Go string literals
// and are never read as key=value.
type token struct {
	text   string
	quoted bool
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Parse reads a script in datadriven's format: a directive line, then
// "----" and the expected output up to a blank line (or between "----"
// "----" pairs when it has blank lines). Lines that start with # are
// comments; the first ones form the Header. name is used in errors.
func Parse(name string, src []byte) (*Script, error) {
	text := string(src)
	text = strings.TrimSuffix(text, "\n")
	var lines []string
	if text != "" || len(src) > 0 {
		lines = strings.Split(text, "\n")
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
		if len(lines[i]) > maxLine {
			return nil, &Error{name, i + 1, fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
	}
	p := &parser{name: name, lines: lines, declared: map[string]bool{}}
	s := &Script{Path: name}
	if err := p.parse(s); err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	name     string
	lines    []string
	i        int
	declared map[string]bool
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{p.name, line, fmt.Sprintf(format, args...)}
}

func (p *parser) parse(s *Script) error {
	inHeader := true
	var stmt []string
	sawBackends := false
	for p.i < len(p.lines) {
		lineNo := p.i + 1
		line := strings.TrimSpace(p.lines[p.i])
		p.i++
		if strings.HasPrefix(line, "#") {
			if inHeader {
				if err := p.headerLine(&s.Header, &stmt, &sawBackends, lineNo, line); err != nil {
					return err
				}
			}
			continue
		}
		if line == "" {
			if inHeader {
				stmt = append(stmt, "")
			}
			continue
		}
		inHeader = false
		for strings.HasSuffix(line, `\`) && p.i < len(p.lines) {
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(p.lines[p.i])
			p.i++
		}
		if line = strings.TrimSpace(line); line == "" {
			continue // as datadriven: a continuation of nothing is nothing
		}
		c, err := p.directive(lineNo, line)
		if err != nil {
			return err
		}
		if err := p.body(c); err != nil {
			return err
		}
		s.Commands = append(s.Commands, c)
	}
	if !sawBackends {
		s.Header.Backends = []string{"sim"}
	}
	s.Header.Statement = paragraphs(stmt)
	return nil
}

// headerLine reads one comment line of the header.
func (p *parser) headerLine(h *Header, stmt *[]string, sawBackends *bool, lineNo int, line string) error {
	body := strings.TrimPrefix(line, "#")
	body = strings.TrimPrefix(body, " ")
	key, val, ok := strings.Cut(body, ":")
	switch {
	case ok && key == "fact":
		for _, f := range strings.Fields(val) {
			if _, known := model.LookupFact(f); !known {
				return p.errf(lineNo, "unknown fact %q (facts are F1..F24)", f)
			}
			h.Facts = append(h.Facts, f)
		}
		if len(h.Facts) == 0 {
			return p.errf(lineNo, "fact: needs at least one fact id")
		}
	case ok && key == "source":
		h.Source = strings.TrimSpace(val)
	case ok && key == "backends":
		*sawBackends = true
		for _, b := range strings.Fields(val) {
			if !nameRe.MatchString(b) {
				return p.errf(lineNo, "bad backend name %q", b)
			}
			h.Backends = append(h.Backends, b)
		}
	default:
		*stmt = append(*stmt, strings.TrimRight(body, " \t"))
	}
	return nil
}

// paragraphs joins comment lines into paragraphs.
func paragraphs(lines []string) string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimSpace(l))
	}
	flush()
	return strings.Join(out, "\n\n")
}

// body reads what follows a directive: nothing, or ---- and the expected
// output, as datadriven does.
func (p *parser) body(c *Command) error {
	sep := false
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		p.i++
		if l == "----" {
			sep = true
			break
		}
		if strings.TrimSpace(l) != "" {
			return p.errf(p.i, "unexpected %q after the command on line %d: a command is followed by a ---- line and its expected output, then a blank line", clip(l), c.Line)
		}
	}
	if !sep {
		return nil
	}
	c.HasExpected = true
	var b strings.Builder
	line, ok := p.next()
	if ok && line == "----" {
		start := p.i
		for {
			line, ok = p.next()
			if !ok {
				return p.errf(start, "no closing ----/---- for the output of line %d", c.Line)
			}
			if line == "----" {
				line2, ok2 := p.next()
				if ok2 && line2 == "----" {
					if l, ok3 := p.next(); ok3 && l != "" {
						return p.errf(p.i, "a blank line must follow the closing ----/----")
					}
					break
				}
				b.WriteString(line + "\n")
				if ok2 {
					b.WriteString(line2 + "\n")
				}
				continue
			}
			b.WriteString(line + "\n")
		}
	} else {
		for ok && strings.TrimSpace(line) != "" {
			b.WriteString(line + "\n")
			line, ok = p.next()
		}
	}
	c.Expected = b.String()
	return nil
}

func (p *parser) next() (string, bool) {
	if p.i >= len(p.lines) {
		return "", false
	}
	p.i++
	return p.lines[p.i-1], true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// tokenize splits a directive into words; "..." is a Go string literal.
func tokenize(line string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		if line[i] == '"' {
			q, err := strconv.QuotedPrefix(line[i:])
			if err != nil || q[0] != '"' {
				return nil, fmt.Errorf("column %d: unterminated or malformed quoted frame %s", i+1, clip(line[i:]))
			}
			v, err := strconv.Unquote(q)
			if err != nil {
				return nil, fmt.Errorf("column %d: malformed quoted frame %s", i+1, q)
			}
			i += len(q)
			if i < len(line) && line[i] != ' ' && line[i] != '\t' {
				return nil, fmt.Errorf("column %d: a space must follow a quoted frame", i+1)
			}
			out = append(out, token{v, true})
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		out = append(out, token{line[i:j], false})
		i = j
	}
}

// directive parses and checks one command line.
func (p *parser) directive(lineNo int, line string) (*Command, error) {
	toks, err := tokenize(line)
	if err != nil {
		return nil, p.errf(lineNo, "%v", err)
	}
	c := &Command{Line: lineNo, Text: line}
	if toks[0].quoted {
		return nil, p.errf(lineNo, "a line must start with a command, not a quoted frame")
	}
	c.Name = toks[0].text
	args := toks[1:]
	for _, a := range args {
		c.Args = append(c.Args, a.text)
	}
	spec, ok := commands[c.Name]
	if !ok {
		return nil, p.errf(lineNo, "unknown command %q (commands: %s)", clip(c.Name), strings.Join(commandNames(), ", "))
	}
	if err := spec.check(p, c, args); err != nil {
		return nil, p.errf(lineNo, "%s: %v (usage: %s)", c.Name, err, spec.usage)
	}
	return c, nil
}

// cmdSpec describes one command for the parser.
type cmdSpec struct {
	usage string
	check func(p *parser, c *Command, args []token) error
}

var commands map[string]cmdSpec

func commandNames() []string {
	var n []string
	for k := range commands {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

func init() {
	open := func(kind model.SocketType) func(*parser, *Command, []token) error {
		return func(p *parser, c *Command, args []token) error {
			if len(args) < 1 {
				return fmt.Errorf("missing socket name")
			}
			if err := p.newName(args[0]); err != nil {
				return err
			}
			c.sock, c.kind = args[0].text, kind
			return parseOptions(&c.opts, kind, args[1:])
		}
	}
	sock := func(p *parser, c *Command, args []token) error {
		if len(args) != 1 {
			return fmt.Errorf("want exactly one socket name, got %d arguments", len(args))
		}
		return p.use(&c.sock, args[0])
	}
	sockEndpoint := func(p *parser, c *Command, args []token) error {
		if len(args) != 2 {
			return fmt.Errorf("want a socket name and an endpoint, got %d arguments", len(args))
		}
		if err := p.use(&c.sock, args[0]); err != nil {
			return err
		}
		if args[1].text == "" || args[1].quoted {
			return fmt.Errorf("bad endpoint %q", args[1].text)
		}
		c.endpoint = args[1].text
		return nil
	}
	sockFrames := func(p *parser, c *Command, args []token) error {
		if len(args) < 2 {
			return fmt.Errorf("want a socket name and at least one frame (\"\" is the empty frame)")
		}
		if err := p.use(&c.sock, args[0]); err != nil {
			return err
		}
		for _, a := range args[1:] {
			c.frames = append(c.frames, a.text)
		}
		return nil
	}
	pair := func(p *parser, c *Command, args []token) error {
		if len(args) != 2 {
			return fmt.Errorf("want two socket names, got %d arguments", len(args))
		}
		if err := p.use(&c.sock, args[0]); err != nil {
			return err
		}
		return p.use(&c.sock2, args[1])
	}
	none := func(p *parser, c *Command, args []token) error {
		if len(args) != 0 {
			return fmt.Errorf("takes no arguments")
		}
		return nil
	}
	commands = map[string]cmdSpec{
		"new-req":    {"new-req NAME [correlate] [relaxed] [immediate] [sndhwm=N] [rcvhwm=N] [reconnect-ivl=D|-1] [reconnect-ivl-max=D]", open(model.REQ)},
		"new-rep":    {"new-rep NAME [immediate] [sndhwm=N] [rcvhwm=N] [reconnect-ivl=D|-1] [reconnect-ivl-max=D]", open(model.REP)},
		"new-dealer": {"new-dealer NAME [immediate] [sndhwm=N] [rcvhwm=N] [reconnect-ivl=D|-1] [reconnect-ivl-max=D]", open(model.DEALER)},
		"bind":       {"bind NAME ENDPOINT", sockEndpoint},
		"connect":    {"connect NAME ENDPOINT", sockEndpoint},
		"disconnect": {"disconnect NAME ENDPOINT", sockEndpoint},
		"send":       {"send NAME FRAME...", sockFrames},
		"recv":       {"recv NAME", sock},
		"poll":       {"poll NAME", sock},
		"state":      {"state NAME", sock},
		"crash":      {"crash NAME", sock},
		"restart":    {"restart NAME", sock},
		"close":      {"close NAME", sock},
		"enqueue":    {"enqueue NAME FRAME...", sockFrames},
		"queue":      {"queue NAME", sock},
		"cut":        {"cut A B", pair},
		"heal":       {"heal A B", pair},
		"trace":      {"trace", none},
		"reset": {"reset", func(p *parser, c *Command, args []token) error {
			if len(args) != 0 {
				return fmt.Errorf("takes no arguments")
			}
			clear(p.declared)
			return nil
		}},
		"advance": {"advance DURATION (e.g. 1ms, 2.5s; at most 1h)", func(p *parser, c *Command, args []token) error {
			if len(args) != 1 {
				return fmt.Errorf("want one duration, got %d arguments", len(args))
			}
			d, err := time.ParseDuration(args[0].text)
			if err != nil {
				return fmt.Errorf("bad duration %q", args[0].text)
			}
			if d < 0 || d > maxAdvance {
				return fmt.Errorf("duration %v out of range 0..%v", d, maxAdvance)
			}
			c.dur = d
			return nil
		}},
		"choose": {"choose CHOICE=ANSWER... (choices: fair-queue, forget-reply-pipe, reconnect-jitter, request-id; answers: N or last)", func(p *parser, c *Command, args []token) error {
			if len(args) == 0 {
				return fmt.Errorf("want at least one CHOICE=ANSWER")
			}
			for _, a := range args {
				k, v, ok := strings.Cut(a.text, "=")
				if !ok || a.quoted {
					return fmt.Errorf("want CHOICE=ANSWER, got %q", a.text)
				}
				var ans answer
				switch ch := model.Choice(k); ch {
				case model.ChoiceFairQueue, model.ChoiceForgetReplyPipe, model.ChoiceReconnectJitter, model.ChoiceRequestID:
					ans.c = ch
				default:
					return fmt.Errorf("unknown choice %q", k)
				}
				if v == "last" {
					ans.last = true
				} else {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 || n >= maxAnswer {
						return fmt.Errorf("bad answer %q for %s: want a number from 0 or last", v, k)
					}
					ans.k = n
				}
				c.answers = append(c.answers, ans)
			}
			return nil
		}},
	}
}

// newName declares a socket name (opening a name again is allowed: a
// closed socket's name can be reused).
func (p *parser) newName(t token) error {
	if t.quoted || !nameRe.MatchString(t.text) || strings.Contains(t.text, "=") {
		return fmt.Errorf("bad socket name %q: letters, digits, _ . -", t.text)
	}
	p.declared[t.text] = true
	return nil
}

// use checks that a socket name was opened earlier in the script.
func (p *parser) use(dst *string, t token) error {
	if t.quoted || !p.declared[t.text] {
		return fmt.Errorf("unknown socket %q: open it first with new-req, new-rep or new-dealer", clip(t.text))
	}
	*dst = t.text
	return nil
}

// parseOptions reads socket options.
func parseOptions(o *model.Options, kind model.SocketType, args []token) error {
	for _, a := range args {
		if a.quoted {
			return fmt.Errorf("unexpected quoted argument %q", a.text)
		}
		k, v, hasVal := strings.Cut(a.text, "=")
		flag := func(dst *bool) error {
			if hasVal {
				return fmt.Errorf("option %s takes no value", k)
			}
			*dst = true
			return nil
		}
		var err error
		switch k {
		case "correlate", "relaxed":
			if kind != model.REQ {
				return fmt.Errorf("option %s is for REQ sockets only", k)
			}
			if k == "correlate" {
				err = flag(&o.ReqCorrelate)
			} else {
				err = flag(&o.ReqRelaxed)
			}
		case "immediate":
			err = flag(&o.Immediate)
		case "sndhwm", "rcvhwm":
			n, perr := strconv.Atoi(v)
			if !hasVal || perr != nil || n < 1 || n > maxHWM {
				return fmt.Errorf("bad %s %q: want a number of messages from 1 to %d", k, v, maxHWM)
			}
			if k == "sndhwm" {
				o.SndHWM = n
			} else {
				o.RcvHWM = n
			}
		case "reconnect-ivl", "reconnect-ivl-max":
			if !hasVal {
				return fmt.Errorf("option %s needs a value", k)
			}
			var d time.Duration
			if v == "-1" && k == "reconnect-ivl" {
				d = model.NoReconnect
			} else {
				var perr error
				d, perr = time.ParseDuration(v)
				if perr != nil {
					return fmt.Errorf("bad duration %q for %s", v, k)
				}
				if d < time.Millisecond || d > maxReconnect || d%time.Millisecond != 0 {
					return fmt.Errorf("%s %v: want whole milliseconds from 1ms to %v (or -1 for reconnect-ivl)", k, d, maxReconnect)
				}
			}
			if k == "reconnect-ivl" {
				o.ReconnectIvl = d
			} else {
				o.ReconnectIvlMax = d
			}
		default:
			return fmt.Errorf("unknown option %q", a.text)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
