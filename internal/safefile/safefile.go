// Package safefile reads and writes the files a user names on lockstep's
// command line without trusting them: an input must be a regular file of
// bounded size, an output a regular file (or a new one), and neither open
// may block (a FIFO with no writer, a device). Every failure is an error
// whose text quotes the path safely.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
)

// ErrRefused marks a path that is not a file lockstep will read or write:
// not regular, too large, or unopenable.
var ErrRefused = errors.New("refused")

// Quote quotes untrusted text for a one-line message: control characters
// and invalid UTF-8 are escaped, and text longer than max bytes is cut,
// with "..." after the closing quote.
func Quote(s string, max int) string {
	if max > 0 && len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// QuotePath quotes a path for a message, cut at 200 bytes.
func QuotePath(p string) string { return Quote(p, 200) }

// ReadRegular reads the regular file at path whole, refusing anything
// that is not a regular file or is larger than limit bytes. The open does
// not block: O_NONBLOCK keeps a FIFO without a writer from hanging it, and
// the type is checked on the opened file (fstat), so a path swapped after
// a check cannot slip a device in. The file is read through a reader
// bounded at limit+1 bytes, so a file that grows while it is read is
// refused too.
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRefused, describe(path, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrRefused, QuotePath(path), errText(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is %s, not a regular file", ErrRefused, QuotePath(path), kind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, larger than the limit of %d bytes", ErrRefused, QuotePath(path), fi.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrRefused, QuotePath(path), errText(err))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s grew past the limit of %d bytes while it was read", ErrRefused, QuotePath(path), limit)
	}
	return b, nil
}

// WriteRegular writes data to path, creating it (mode 0644) or truncating
// an existing regular file. Anything else already at path (a FIFO, a
// device, a directory) is refused without blocking, and a failed write or
// close is an error.
func WriteRegular(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("%w: %s is %s, not a regular file", ErrRefused, QuotePath(path), kind(fi.Mode()))
	}
	// O_NONBLOCK: should a FIFO appear at path after the check, opening it
	// for writing fails (ENXIO) instead of waiting for a reader.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, describe(path, err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("%w: %s is %s, not a regular file", ErrRefused, QuotePath(path), kind(fi.Mode()))
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %s", QuotePath(path), errText(err))
	}
	return nil
}

func describe(path string, err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return QuotePath(path) + ": " + errText(err)
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "not a regular file"
	}
}

// Output is the one path every command's output goes through: it keeps
// the first failed write, and Err reports it (or a failed close), so a
// command that printed to a full disk or a closed pipe exits 2 instead of
// claiming success.
type Output struct {
	w   io.Writer
	err error
}

// NewOutput wraps w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Write writes p unless an earlier write failed; it returns the first
// error for good.
func (o *Output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	o.err = err
	return n, err
}

// Err is the first failed write, if any.
func (o *Output) Err() error { return o.err }

// Close closes the underlying writer if it is a Closer (never os.Stdout's
// file: the process owns it; its errors surface on write) and returns
// the first error of a write or of the close.
func (o *Output) Close() error {
	if c, ok := o.w.(io.Closer); ok && o.w != io.Writer(os.Stdout) {
		if err := c.Close(); o.err == nil {
			o.err = err
		}
	}
	return o.err
}
