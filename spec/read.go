package spec

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Error is a script error: a file datadriven cannot read, a command that
// does not check, or a command that could not run. It always names the
// script and the line at fault.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Script is one scenario script, read by [Parse].
type Script struct {
	// Path is the file the script was read from, as given to Parse.
	Path     string
	Header   Header
	Commands []*Command
}

// Header is what the comment lines at the top of a script say about it.
type Header struct {
	// Facts are the facts the script shows, "F1".."F24" (the "# fact:" line).
	Facts []model.FactID
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
	Text string // the directive, as datadriven prints it (TestData.FullCmd)
	Name string // the command, e.g. "send"
	Args []string
	// Expected is the output below the ---- line, each line ending in a
	// newline; empty when the command has none.
	Expected string

	// Parsed arguments, filled in by the parser for the interpreter.
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

// Parse reads a script with datadriven's own reader
// ([datadriven.RunTestFromStringAny]), the one the tests run the scripts
// through with [datadriven.RunTest]: a directive line (continued with a
// trailing \), then "----" and the expected output up to a blank line, or
// between "----" "----" pairs when it has blank lines. Lines that start
// with # are comments; the first ones form the Header, which datadriven
// skips. Each directive is then checked as a command. name is used in
// errors.
func Parse(name string, src []byte) (*Script, error) {
	text := string(src)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		// datadriven's bufio.Scanner stops silently at a longer line.
		if len(l) >= bufio.MaxScanTokenSize {
			return nil, &Error{name, i + 1, fmt.Sprintf("line longer than %d bytes", bufio.MaxScanTokenSize-1)}
		}
	}
	s := &Script{Path: name}
	if err := readHeader(name, lines, &s.Header); err != nil {
		return nil, err
	}
	tds, err := readDirectives(text)
	if err != nil {
		return nil, &Error{name, err.line, err.msg}
	}
	p := newParser(name)
	for _, td := range tds {
		c, err := p.command(td)
		if err != nil {
			return nil, err
		}
		s.Commands = append(s.Commands, c)
	}
	return s, nil
}

// readHeader reads the comment lines that open a script, up to its first
// directive: datadriven skips comments, so they are the script's own.
func readHeader(name string, lines []string, h *Header) error {
	var stmt []string
	sawBackends := false
	for i, l := range lines {
		line := strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if line == "" {
			stmt = append(stmt, "")
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		body := strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		key, val, ok := strings.Cut(body, ":")
		switch {
		case ok && key == "fact":
			for _, word := range strings.Fields(val) {
				f := model.FactID(word)
				if _, known := model.LookupFact(f); !known {
					return &Error{name, i + 1, fmt.Sprintf("unknown fact %q (facts are F1..F24)", f)}
				}
				h.Facts = append(h.Facts, f)
			}
			if len(h.Facts) == 0 {
				return &Error{name, i + 1, "fact: needs at least one fact id"}
			}
		case ok && key == "source":
			h.Source = strings.TrimSpace(val)
		case ok && key == "backends":
			sawBackends = true
			for _, b := range strings.Fields(val) {
				if !nameRe.MatchString(b) {
					return &Error{name, i + 1, fmt.Sprintf("bad backend name %q", b)}
				}
				h.Backends = append(h.Backends, b)
			}
		default:
			stmt = append(stmt, strings.TrimRight(body, " \t"))
		}
	}
	if !sawBackends {
		h.Backends = []string{"sim"}
	}
	h.Statement = paragraphs(stmt)
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

// readError is what datadriven's reader reported about a file it cannot
// read, and the line where it gave up.
type readError struct {
	line int
	msg  string
}

// readDirectives returns the directives of a script as datadriven's
// reader reads them. datadriven reports a file it cannot read through
// Fatal on its testing.TB; the line is found as the shortest prefix of the
// script that datadriven cannot read either.
func readDirectives(text string) ([]*datadriven.TestData, *readError) {
	tds, msg, failed := readWith(text)
	if !failed {
		return tds, nil
	}
	lines := strings.SplitAfter(text, "\n")
	lo := 0 // every directive up to the last one read is readable
	if len(tds) > 0 {
		lo = lineOf(tds[len(tds)-1].Pos)
	}
	hi := len(lines)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if _, _, f := readWith(strings.Join(lines[:mid], "")); f {
			hi = mid
		} else {
			lo = mid
		}
	}
	if _, pos, ok := strings.Cut(msg, "<string>:"); ok {
		if _, rest, ok := strings.Cut(pos, ": "); ok {
			msg = rest // datadriven's position, "<string>:N: "
		}
	}
	return tds, &readError{hi, msg}
}

// readWith runs datadriven's reader over text, collecting its directives.
func readWith(text string) (tds []*datadriven.TestData, msg string, failed bool) {
	t := &recorder{}
	defer func() {
		if r := recover(); r != nil {
			stop, ok := r.(stopReading)
			if !ok {
				panic(r)
			}
			msg, failed = string(stop), true
		}
	}()
	datadriven.RunTestFromStringAny(t, text, func(_ testing.TB, td *datadriven.TestData) string {
		c := *td
		tds = append(tds, &c)
		// datadriven compares what this returns with the expected
		// output, and on a match asks testing.Verbose, which needs `go
		// test`'s flags. So return something else, and ignore the
		// mismatch it reports (unless it is rewriting, when it compares
		// nothing).
		t.comparing = !td.Rewrite
		if td.Expected == "" {
			return "\x00"
		}
		return ""
	})
	return tds, "", false
}

// stopReading carries the message of a Fatal out of datadriven's reader.
type stopReading string

// recorder is the testing.TB datadriven's reader reports to when Parse
// runs it, in or out of `go test`. Embedding the interface satisfies its
// unexported method; datadriven calls only the methods defined here.
type recorder struct {
	testing.TB
	comparing bool // the next Fatal reports the mismatch readWith makes
}

func (t *recorder) Helper()                      {}
func (t *recorder) Failed() bool                 { return false }
func (t *recorder) Skipped() bool                { return false }
func (t *recorder) Log(...any)                   {}
func (t *recorder) Logf(string, ...any)          {}
func (t *recorder) FailNow()                     { t.Fatal("datadriven stopped reading") }
func (t *recorder) Error(args ...any)            { t.Fatal(args...) }
func (t *recorder) Errorf(f string, args ...any) { t.Fatalf(f, args...) }
func (t *recorder) Fatal(args ...any)            { t.fatal(fmt.Sprint(args...)) }
func (t *recorder) Fatalf(f string, args ...any) {
	t.fatal(fmt.Sprintf(f, args...))
}

// Run runs a datadriven subtest ("subtest NAME" ... "subtest end") in
// line, so that its directives are read like any other.
func (t *recorder) Run(_ string, f func(testing.TB)) { f(t) }

func (t *recorder) fatal(msg string) {
	if t.comparing {
		t.comparing = false
		return
	}
	panic(stopReading(msg))
}
