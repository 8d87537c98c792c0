package properties

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zeromq-lockstep/lockstep/internal/safefile"
	"github.com/zeromq-lockstep/lockstep/model"
)

// MaxFailFileBytes bounds the fail files replay reads. A fail file is the
// log of one shrunk failing run and its draws: the kept ones are under
// 10 KB; a megabyte is a run far longer than rapid ever saves.
const MaxFailFileBytes = 1 << 20

// FailFile is a fail file as rapid v1.3 writes it (saveFailFile in
// pgregory.net/rapid's persist.go), parsed strictly: "# " and a line of
// the failing run's log per comment line, then "v0.4.8#SEED", then one
// "0x..." line per uint64 the run drew, with nothing after.
type FailFile struct {
	Test     string // the property, from the "lockstep property" line
	Version  string // its Version when the file was written
	Mutation model.Mutation
	// Headers are the run's log messages that start "lockstep ": the
	// property marker and the mutation, in order.
	Headers []string
	// Preamble is the run's log before its first draw: the headers, and
	// on a valid file nothing else.
	Preamble []string
	// Draws are rapid's "[rapid] draw LABEL: VALUE" log messages: what
	// the failing run drew from Values, in order.
	Draws []string
	// Last is the run's last log message: its failure.
	Last   string
	Seed   uint64
	Values []uint64
}

var (
	// logLineRE is one message of the log rapid saves: log.New with
	// Ldate|Ltime|Lmicroseconds|Lmsgprefix and the prefix "[TestName] ".
	logLineRE = regexp.MustCompile(`^# \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[([A-Za-z0-9_]+)\] (.*)$`)
	markerRE  = regexp.MustCompile(`^lockstep property (Test[A-Za-z0-9_]+) version (\d+)$`)
)

// ParseFailFile parses a fail file's bytes, or says what is wrong with
// them. Only the format is checked here; Replay checks that the values
// replay the draws the log records.
func ParseFailFile(data []byte) (*FailFile, error) {
	if !bytes.HasPrefix(data, []byte("# ")) {
		return nil, fmt.Errorf("is not a rapid fail file (it does not open with rapid's log, \"# \")")
	}
	text := strings.TrimSuffix(string(data), "\n") // rapid writes none; an editor may add one
	lines := strings.Split(text, "\n")
	ff := &FailFile{}
	var msgs []string
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		if m := logLineRE.FindStringSubmatch(lines[i]); m != nil {
			if ff.Test == "" {
				mm := markerRE.FindStringSubmatch(m[2])
				if mm == nil || mm[1] != m[1] {
					return nil, fmt.Errorf("line %d: the first log message is not \"lockstep property TestX version N\" of its own test: %s", i+1, safefile.Quote(lines[i], 120))
				}
				ff.Test, ff.Version = mm[1], mm[2]
			} else if m[1] != ff.Test {
				return nil, fmt.Errorf("line %d: a log message of %s in a fail file of %s", i+1, safefile.Quote(m[1], 60), ff.Test)
			}
			msgs = append(msgs, m[2])
		} else if i == 0 {
			return nil, fmt.Errorf("was not written by a lockstep property: line 1 is not a line of rapid's log: %s", safefile.Quote(lines[0], 120))
		} else if !slices.ContainsFunc(msgs, isDraw) {
			// Before the first draw the property logs only one-line
			// headers: a line that is not a log line there is damage
			// (say, to the timestamp of the mutation line).
			return nil, fmt.Errorf("line %d is not a line of rapid's log: %s", i+1, safefile.Quote(lines[i], 120))
		}
	}
	for _, m := range msgs {
		if isDraw(m) {
			break
		}
		ff.Preamble = append(ff.Preamble, m)
	}
	for _, m := range msgs {
		switch {
		case strings.HasPrefix(m, "lockstep "):
			ff.Headers = append(ff.Headers, m)
		case isDraw(m):
			ff.Draws = append(ff.Draws, m)
		}
	}
	if len(msgs) > 0 {
		ff.Last = msgs[len(msgs)-1]
	}
	switch {
	case len(ff.Headers) == 2 && strings.HasPrefix(ff.Headers[1], "lockstep mutation ") && msgs[1] == ff.Headers[1]:
		js := strings.TrimPrefix(ff.Headers[1], "lockstep mutation ")
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ff.Mutation); err != nil || dec.More() {
			return nil, fmt.Errorf("names a mutation this lockstep does not have: %s", safefile.Quote(js, 120))
		}
		// The property logs json.Marshal of the mutation: anything else
		// (a flipped byte that still decodes) is not what it wrote.
		if b, _ := json.Marshal(ff.Mutation); string(b) != js || ff.Mutation == (model.Mutation{}) {
			return nil, fmt.Errorf("its mutation line is not one the properties write: %s", safefile.Quote(js, 120))
		}
	case len(ff.Headers) != 1:
		return nil, fmt.Errorf("has %d \"lockstep\" log lines; a fail file has the property line and at most one mutation line, first", len(ff.Headers))
	}
	if i == len(lines) {
		return nil, fmt.Errorf("is not a rapid fail file (no version#seed line)")
	}
	v, seed, ok := strings.Cut(lines[i], "#")
	if !ok {
		return nil, fmt.Errorf("line %d is not rapid's version#seed line: %s", i+1, safefile.Quote(lines[i], 80))
	}
	if v != rapidFileVersion {
		return nil, fmt.Errorf("was written by rapid format %s; this lockstep reads %s", safefile.Quote(v, 40), rapidFileVersion)
	}
	s, err := strconv.ParseUint(seed, 10, 64)
	if err != nil || strconv.FormatUint(s, 10) != seed {
		return nil, fmt.Errorf("line %d: bad seed %s", i+1, safefile.Quote(seed, 40))
	}
	ff.Seed = s
	for i++; i < len(lines); i++ {
		l := lines[i]
		u, err := strconv.ParseUint(strings.TrimPrefix(l, "0x"), 16, 64)
		if err != nil || "0x"+strconv.FormatUint(u, 16) != l {
			return nil, fmt.Errorf("line %d is not a value as rapid writes them (0x and lower-case hex): %s", i+1, safefile.Quote(l, 40))
		}
		ff.Values = append(ff.Values, u)
	}
	if len(ff.Values) == 0 {
		return nil, fmt.Errorf("has no values after its version#seed line")
	}
	return ff, nil
}

func isDraw(m string) bool { return strings.HasPrefix(m, "[rapid] draw ") }

// encode writes the file back as rapid would, with the given values, so
// that rapid can read a checked copy (never the user's path again) and
// the probes of Replay.
func (ff *FailFile) encode(values []uint64) []byte {
	var b bytes.Buffer
	for _, h := range ff.Headers {
		fmt.Fprintf(&b, "# 2000/01/01 00:00:00.000000 [%s] %s\n", ff.Test, h)
	}
	fmt.Fprintf(&b, "%s#%d", rapidFileVersion, ff.Seed)
	for _, u := range values {
		fmt.Fprintf(&b, "\n0x%x", u)
	}
	return b.Bytes()
}
