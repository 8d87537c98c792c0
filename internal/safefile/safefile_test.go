package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegularRefusesWhatIsNotABoundedRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 101), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "a FIFO"}, {"/dev/zero", "a character device"}, {"/dev/urandom", "a character device"},
		{dir, "a directory"}, {big, "101 bytes, larger than the limit of 100 bytes"}, {link, "a character device"},
		{filepath.Join(dir, "none"), "no such file"}, {"bad\x1bname", `"bad\x1bname"`},
	} {
		_, err := ReadRegular(c.path, 100)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want ErrRefused saying %q", c.path, err, c.want)
		}
	}
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("hello"), 0o600)
	if b, err := ReadRegular(ok, 5); err != nil || string(b) != "hello" {
		t.Fatalf("a file at the limit: %q, %v", b, err)
	}
}

func TestWriteRegularRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(fifo, link) // a FIFO behind a link: the open must not wait for a reader
	for _, p := range []string{fifo, link, "/dev/full", "/dev/null", dir, filepath.Join(dir, "no", "dir")} {
		if err := WriteRegular(p, []byte("x")); err == nil {
			t.Errorf("%s: written, want refused", p)
		}
	}
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("a longer old content"), 0o600)
	if err := WriteRegular(f, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); string(b) != "new" {
		t.Fatalf("content %q, want it replaced", b)
	}
}

type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, syscall.ENOSPC
	}
	f.n--
	return len(p), nil
}

func TestOutputKeepsTheFirstError(t *testing.T) {
	o := NewOutput(&failing{n: 1})
	if _, err := o.Write([]byte("ok")); err != nil || o.Err() != nil {
		t.Fatalf("first write: %v", err)
	}
	o.Write([]byte("full"))
	if _, err := o.Write([]byte("more")); !errors.Is(err, syscall.ENOSPC) || !errors.Is(o.Close(), syscall.ENOSPC) {
		t.Fatalf("after a failed write: %v, Close %v", err, o.Close())
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("a\nb\x00\xff", 0); got != `"a\nb\x00\xff"` {
		t.Errorf("Quote: %s", got)
	}
	if got := Quote(strings.Repeat("x", 10), 3); got != `"xxx"...` {
		t.Errorf("cut: %s", got)
	}
}
