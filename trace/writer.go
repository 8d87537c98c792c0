package trace

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Writer writes a trace in one of the [Formats] as events happen:
//
//	tw, err := trace.NewWriter(os.Stdout, "jsonl")
//	...
//	for _, e := range events {
//		if err := tw.Write(e); err != nil { ... }
//	}
//	err = tw.Close() // flushes; msc is rendered here
//
// text, node and jsonl are written line by line; msc keeps the events
// until Close, since a diagram declares its lanes before its first arrow.
// The first failed write is returned by every later call.
type Writer struct {
	out    *bufio.Writer
	format string
	held   []Event // msc only
	line   []byte  // text only: the line being written
	err    error
}

// NewWriter returns a Writer for format, or an error naming the known
// formats.
func NewWriter(w io.Writer, format string) (*Writer, error) {
	if !knownFormat(format) {
		return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
	}
	return &Writer{out: bufio.NewWriterSize(w, 64<<10), format: format}, nil
}

func knownFormat(f string) bool {
	for _, k := range Formats {
		if k == f {
			return true
		}
	}
	return false
}

// Write writes one event.
func (w *Writer) Write(e Event) error {
	if w.err != nil {
		return w.err
	}
	switch w.format {
	case "msc":
		if len(w.held) >= MaxMSCEvents {
			w.err, w.held = TooManyEventsError{}, nil
			return w.err
		}
		w.held = append(w.held, e)
		return nil
	case "text":
		// One reused buffer: the text of a long run is formatted here.
		w.line = e.AppendText(w.line[:0])
		_, w.err = w.out.Write(w.line)
	case "jsonl":
		_, w.err = w.out.Write(e.JSON())
	case "node":
		line, ok := e.Node()
		if !ok {
			return nil
		}
		_, w.err = w.out.WriteString(line)
	}
	if w.err == nil {
		w.err = w.out.WriteByte('\n')
	}
	return w.err
}

// Close writes what is held and flushes. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.format == "msc" {
		if _, w.err = w.out.WriteString(MSC(w.held)); w.err != nil {
			return w.err
		}
		w.held = nil
	}
	w.err = w.out.Flush()
	return w.err
}
