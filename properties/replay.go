package properties

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"

	"pgregory.net/rapid"
)

// Version is the version of the properties' generators. A fail file
// records it; bump it whenever a change to the operations, their draws or
// the configuration draws would make old fail files replay a different
// sequence, so that replay refuses them instead of showing a wrong trace.
const Version = 2

// rapidFileVersion is the fail-file format rapid v1.3 writes and reads.
const rapidFileVersion = "v0.4.8"

// ErrBadFailFile marks a fail file that cannot be replayed: missing,
// unreadable, not rapid's, not lockstep's, or from another version.
var ErrBadFailFile = errors.New("bad fail file")

// Replayed is the result of replaying a fail file.
type Replayed struct {
	Test string
	// Mutation is the deliberate defect the run had, if it came from a
	// mutant (the teeth tests); replay applies it again.
	Mutation model.Mutation
	Failed   bool   // the failure reproduced
	Message  string // rapid's report of it
	Property Property
	Run      // what the replayed sequence did
}

var (
	markerRE   = regexp.MustCompile(`lockstep property (\S+) version (\d+)`)
	mutationRE = regexp.MustCompile(`lockstep mutation (\{.*\})`)
)

// Replay re-runs the property that wrote the fail file at path on the
// sequence it saved, and returns that sequence's trace:
//
//	r, err := properties.Replay("properties/testdata/rapid/TestLossOnRestart/TestLossOnRestart-20261125-1.fail")
func Replay(path string) (*Replayed, error) {
	test, mut, err := inspectFailFile(path)
	if err != nil {
		return nil, err
	}
	if !mut.IsZero() && !model.Mutations() {
		return nil, fmt.Errorf("%w: %s records a deliberate defect (%s); replay it with a lockstep built with -tags teeth: go run -tags teeth ./cmd/lockstep replay FILE", ErrBadFailFile, path, model.ErrNoMutations)
	}
	p, ok := Lookup(test)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a fail file of %s, which is not a lockstep property (known: %s)", ErrBadFailFile, path, test, testNames())
	}
	tb := &RecordingTB{name: test}
	replayMu.Lock()
	defer replayMu.Unlock()
	if err := withRapidFlags(map[string]string{"rapid.failfile": path, "rapid.nofailfile": "true", "rapid.checks": "0"}, func() {
		tb.Run(func() { rapid.Check(tb, p.Check(mut)) })
	}); err != nil {
		return nil, err
	}
	// rapid calls a saved sequence that runs out before anything fails
	// "no longer valid": with the version marker checked above, that means
	// the failure is gone, which the caller reports from Failed.
	if strings.Contains(tb.Output(), "ignoring fail file") {
		return nil, fmt.Errorf("%w: rapid could not use %s: %s", ErrBadFailFile, path, firstLine(tb.Output(), "fail file"))
	}
	r := &Replayed{Test: test, Mutation: mut, Failed: tb.Failed(), Message: firstLine(tb.Output(), "[rapid] failed"), Property: p}
	last, ok := LastRun()
	if !ok {
		return nil, fmt.Errorf("%w: %s replayed no sequence", ErrBadFailFile, path)
	}
	r.Run = last
	return r, nil
}

// inspectFailFile checks that path is a readable rapid fail file written by
// this version of a lockstep property, and returns the property's test name.
func inspectFailFile(path string) (test string, mut model.Mutation, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", mut, fmt.Errorf("%w: %v", ErrBadFailFile, err)
	}
	defer f.Close()
	var version, header string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			if m := markerRE.FindStringSubmatch(line); m != nil && test == "" {
				test, version = m[1], m[2]
			}
			if m := mutationRE.FindStringSubmatch(line); m != nil {
				dec := json.NewDecoder(strings.NewReader(m[1]))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&mut); err != nil {
					return "", mut, fmt.Errorf("%w: %s names a mutation this lockstep does not have: %v", ErrBadFailFile, path, err)
				}
			}
			continue
		}
		if line != "" && header == "" {
			header = line
		}
	}
	if err := sc.Err(); err != nil {
		return "", mut, fmt.Errorf("%w: %s: %v", ErrBadFailFile, path, err)
	}
	v, _, ok := strings.Cut(header, "#")
	if !ok {
		return "", mut, fmt.Errorf("%w: %s is not a rapid fail file (no version#seed line)", ErrBadFailFile, path)
	}
	if v != rapidFileVersion {
		return "", mut, fmt.Errorf("%w: %s was written by rapid format %s; this lockstep reads %s", ErrBadFailFile, path, v, rapidFileVersion)
	}
	if test == "" {
		return "", mut, fmt.Errorf("%w: %s was not written by a lockstep property (no \"lockstep property\" line)", ErrBadFailFile, path)
	}
	if version != itoa(Version) {
		return "", mut, fmt.Errorf("%w: %s is from version %s of %s; this lockstep's properties are version %d, so the saved sequence would mean something else (re-run go test ./properties to find it again)", ErrBadFailFile, path, version, test, Version)
	}
	if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != test && strings.HasPrefix(dir, "Test") {
		return "", mut, fmt.Errorf("%w: %s lies under %s but was written by %s", ErrBadFailFile, path, dir, test)
	}
	return test, mut, nil
}

func testNames() string {
	var names []string
	for _, p := range All {
		names = append(names, p.Test)
	}
	return strings.Join(names, ", ")
}

func firstLine(s, containing string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, containing) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// replayMu serialises replays: they set rapid's process-wide flags.
var replayMu sync.Mutex

// withRapidFlags sets rapid's flags for the duration of do. Outside a test
// binary the testing flags rapid reads are not registered, so it registers
// them first.
func withRapidFlags(set map[string]string, do func()) error {
	if flag.Lookup("test.short") == nil {
		testing.Init()
	}
	if !flag.Parsed() {
		// rapid asks testing.Short(), which panics unless the command
		// line was parsed; lockstep's own flags live in FlagSets, so the
		// process-wide set has nothing else to parse.
		_ = flag.CommandLine.Parse(nil)
	}
	old := map[string]string{}
	for name, v := range set {
		f := flag.Lookup(name)
		if f == nil {
			return fmt.Errorf("properties: rapid has no flag %s", name)
		}
		old[name] = f.Value.String()
		if err := flag.Set(name, v); err != nil {
			return err
		}
	}
	defer func() {
		for name, v := range old {
			_ = flag.Set(name, v)
		}
	}()
	do()
	return nil
}
