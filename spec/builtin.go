package spec

import (
	"embed"
	"io/fs"
	"path"
	"slices"

	"github.com/zeromq-lockstep/lockstep/model"
)

//go:embed testdata/*.txt
var builtin embed.FS

// Builtin returns the scripts of this package (testdata/*.txt), parsed, in
// file name order; their Path is "testdata/NAME.txt". They are compiled
// into the binary, so a command such as `lockstep conformance` needs no
// source tree.
func Builtin() ([]*Script, error) {
	names, err := fs.Glob(builtin, "testdata/*.txt")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []*Script
	for _, n := range names {
		src, err := builtin.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s, err := Parse(path.Clean(n), src)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// FactScripts is one fact and the scripts that show it.
type FactScripts struct {
	Fact    model.Fact
	Scripts []*Script
}

// Facts returns every fact of model.Facts, in order, with the builtin
// scripts whose header names it: what SPEC.md and `lockstep conformance`
// are built from.
func Facts() ([]FactScripts, error) {
	scripts, err := Builtin()
	if err != nil {
		return nil, err
	}
	var out []FactScripts
	for _, f := range model.Facts {
		fs := FactScripts{Fact: f}
		for _, s := range scripts {
			if slices.Contains(s.Header.Facts, f.ID) {
				fs.Scripts = append(fs.Scripts, s)
			}
		}
		out = append(out, fs)
	}
	return out, nil
}
