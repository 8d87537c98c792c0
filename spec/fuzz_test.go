package spec

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse: any input, read by datadriven's reader through Parse, either
// runs on the sim backend or gets a script error naming one of its lines;
// nothing panics or runs for long.
func FuzzParse(f *testing.F) {
	for _, path := range scriptFiles(f) {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"", "\n", "----\n", "#\n", "send\n", "new-req \"\"\n", "new-req c\n----\n----\n",
		"new-dealer d\nbind d x\n----\nok\n\nconnect d x\n----\nok\n\nadvance 1h\n",
		"new-req c reconnect-ivl=1ms\nconnect c e\n----\n\nadvance 1h\n",
		"choose fair-queue=last request-id=2147483647\n",
		"subtest a\nnew-req c\nsubtest end\n", "new-req c\n----\n----\nok\n----\n----\nx\n",
		"send =x\n", "new-req c sndhwm=(1\n", "new-req c \\\n  immediate\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.txt", src)
		if err != nil {
			checkErr(t, err, src)
			return
		}
		r, err := NewRunner("fuzz.txt", "sim")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s.Commands {
			out, err := r.Exec(c)
			if err != nil {
				checkErr(t, err, src)
				if strings.Contains(err.Error(), "panicked") {
					t.Fatalf("the model panicked: %v", err)
				}
				return
			}
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("output %q does not end in a newline", out)
			}
		}
	})
}

func checkErr(t *testing.T, err error, src []byte) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a script error", err)
	}
	n := strings.Count(string(src), "\n") + 1
	if se.Line < 1 || se.Line > n || !strings.HasPrefix(err.Error(), "fuzz.txt:"+strconv.Itoa(se.Line)+": ") {
		t.Fatalf("error %q: line %d outside 1..%d", err, se.Line, n)
	}
}
