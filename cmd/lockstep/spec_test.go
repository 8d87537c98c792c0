package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSpecIsCurrent fails when SPEC.md or the README's generated diagrams
// differ from what the code, scripts and properties generate now.
func TestSpecIsCurrent(t *testing.T) {
	want, err := renderSpec()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../SPEC.md")
	if err != nil {
		t.Fatalf("spec: %v (generate it: go generate ./cmd/lockstep)", err)
	}
	if string(got) != want {
		t.Errorf("spec: SPEC.md is stale; regenerate it with: go generate ./cmd/lockstep\n%s", firstDifference(string(got), want))
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := refreshGenerated(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if fresh != string(readme) {
		t.Errorf("spec: README.md's generated diagrams are stale; regenerate them with: go generate ./cmd/lockstep\n%s", firstDifference(string(readme), fresh))
	}
	if !strings.Contains(string(readme), "<!-- generated: blog-msc -->") || !strings.Contains(string(readme), "<!-- generated: restart-msc -->") {
		t.Error("spec: README.md no longer embeds the diagrams of the blog's experiment and of a losing restart")
	}
}

// TestSpecCoversEveryFact: every fact has a row, a script, a recorded
// libzmq result and, for the facts the properties cite, those properties.
func TestSpecCoversEveryFact(t *testing.T) {
	spec, err := renderSpec()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 24; i++ {
		row := ""
		for _, l := range strings.Split(spec, "\n") {
			if strings.HasPrefix(l, "| **F"+strconv.Itoa(i)+"** ") {
				row = l
			}
		}
		if row == "" {
			t.Errorf("spec: no row for F%d", i)
			continue
		}
		cols := strings.Split(row, " | ")
		if len(cols) != 6 || cols[2] == "-" {
			t.Errorf("spec: F%d's row has no script: %s", i, row)
		}
		if len(cols) == 6 && strings.Contains(cols[5], "not recorded") {
			t.Errorf("spec: F%d has no libzmq result: %s", i, row)
		}
	}
}

func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n  file:      " + x + "\n  generated: " + y
		}
	}
	return ""
}
