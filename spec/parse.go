package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Limits that keep any script, however odd, quick to run.
const (
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

// parser checks the directives datadriven reads, in order, and turns each
// into a Command; it remembers which sockets the script has opened.
type parser struct {
	name     string
	declared map[string]bool
}

func newParser(name string) *parser {
	return &parser{name: name, declared: map[string]bool{}}
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{p.name, line, fmt.Sprintf(format, args...)}
}

// command checks one directive as datadriven read it and returns it as a
// Command. Its words are datadriven's arguments, each as written
// (CmdArg.String): a word that starts with " is a frame, a Go string
// literal, which cannot contain a space (write \x20).
func (p *parser) command(td *datadriven.TestData) (*Command, error) {
	line := lineOf(td.Pos)
	if strings.HasPrefix(td.Cmd, `"`) {
		return nil, p.errf(line, "a line must start with a command, not a quoted frame")
	}
	c := &Command{Line: line, Text: td.FullCmd(), Name: td.Cmd, Expected: td.Expected}
	if td.Input != "" {
		return nil, p.errf(line, "unexpected %q below the command: a command is followed by a ---- line and its expected output, then a blank line", clip(td.Input))
	}
	var args []token
	for _, a := range td.CmdArgs {
		w := a.String()
		t := token{text: w}
		if strings.HasPrefix(w, `"`) {
			v, err := strconv.Unquote(w)
			if err != nil {
				return nil, p.errf(line, "malformed quoted frame %s: a frame is a Go string literal without spaces (write a space as \\x20)", clip(w))
			}
			t = token{text: v, quoted: true}
		}
		args = append(args, t)
		c.Args = append(c.Args, t.text)
	}
	spec, ok := commands[c.Name]
	if !ok {
		return nil, p.errf(line, "unknown command %q (commands: %s)", clip(c.Name), strings.Join(commandNames(), ", "))
	}
	if err := spec.check(p, c, args); err != nil {
		return nil, p.errf(line, "%s: %v (usage: %s)", c.Name, err, spec.usage)
	}
	return c, nil
}

// lineOf is the line number of a datadriven position, "file:line".
func lineOf(pos string) int {
	n, _ := strconv.Atoi(pos[strings.LastIndexByte(pos, ':')+1:])
	return n
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
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
		"answer":     {"answer NAME FRAME... (the last message's envelope, then FRAMEs)", sockFrames},
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
		"choose": {"choose CHOICE=ANSWER... (choices: fair-queue, drain-refill, reconnect-jitter, request-id; answers: N or last)", func(p *parser, c *Command, args []token) error {
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
				case model.ChoiceFairQueue, model.ChoiceDrainRefill, model.ChoiceReconnectJitter, model.ChoiceRequestID:
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
