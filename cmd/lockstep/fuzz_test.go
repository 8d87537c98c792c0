package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzArgs runs the command dispatcher in-process on arbitrary argument
// lists (NUL-separated in the fuzz input) and checks the command line's
// promise: no panic, exit status 0, 1 or 2, and for 2 exactly one line on
// stderr with no raw control character.
//
// It runs in a fresh temporary directory and leaves out what could reach
// outside it or run long: any argument with a "/" (so spec -o and -readme
// write only there, and replay reads only there), anything naming zmq4
// (real sockets, real time), compare (always real sockets), and any
// duration above a virtual minute (what ParseDuration accepts is exactly
// what the flags accept).
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		"run\x00seed", "run\x00seed\x00-for\x002s\x00-restart-at\x001s\x00-format\x00msc",
		"run\x00two-clients\x00-format=node\x00-for=30s", "run\x00-seed\x0018446744073709551615\x00no-reply",
		"run\x00seed\x00-for\x001s\x00-restart-at\x002s", "run\x00seed\x00-down\x001s", "run\x00seed\x00-port\x005454",
		"scenarios", "scenarios\x00x", "replay\x00x.fail", "replay", "spec\x00-o\x00SPEC.md", "spec\x00-readme\x00README.md",
		"conformance\x00-fact\x00f5", "conformance\x00-backend\x00sim\x00-v", "help", "-h", "run\x00-h", "\x1b[31m", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var args []string
		if in != "" {
			args = strings.Split(in, "\x00")
		}
		if len(args) > 0 && args[0] == "compare" {
			t.Skip("compare runs real sockets")
		}
		for _, a := range args {
			if strings.Contains(a, "/") || strings.Contains(strings.ToLower(a), "zmq4") {
				t.Skip("reaches outside the temporary directory or onto real sockets")
			}
			_, v, _ := strings.Cut(a, "=")
			for _, s := range []string{a, v} {
				if d, err := time.ParseDuration(s); err == nil && d > time.Minute {
					t.Skip("a long run")
				}
			}
		}
		t.Chdir(t.TempDir())
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		switch code {
		case 0, 1:
		case 2:
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
				t.Fatalf("%q: exit 2 with stderr %q, want exactly one line", args, msg)
			}
			for _, r := range strings.TrimSuffix(msg, "\n") {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("%q: stderr %q has a raw control character", args, msg)
				}
			}
		default:
			t.Fatalf("%q: exit %d", args, code)
		}
	})
}
