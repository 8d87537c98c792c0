package properties

import (
	"strconv"
	"strings"
)

func splitLines(b []byte) []string { return strings.Split(strings.TrimRight(string(b), "\n"), "\n") }

func itoa(i int) string { return strconv.Itoa(i) }
