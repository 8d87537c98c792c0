//go:build libzmq && cgo

package libzmq

import (
	"os"
	"testing"

	"github.com/zeromq-lockstep/lockstep/properties/script"
)

func TestDebugScript(t *testing.T) {
	p := os.Getenv("LZ_SCRIPT")
	if p == "" {
		t.Skip()
	}
	src, _ := os.ReadFile(p)
	s, err := script.Parse(p, src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := script.Run(withoutSkipped(s), Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Commands {
		mark := "  "
		if !c.Pass {
			mark = "XX"
		}
		t.Logf("%s %d %s\n   exp: %q\n   act: %q", mark, c.Line, c.Command, c.Expected, c.Actual)
	}
}
