// Command outside runs bubbles from a plain binary, for bubble's test.
package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zeromq-lockstep/lockstep/internal/bubble"
)

func main() {
	for i := range 3 {
		var slept time.Duration
		ok, err := bubble.Run("outside", func(t *testing.T) {
			start := time.Now()
			time.Sleep(time.Hour)
			slept = time.Since(start)
		})
		if err != nil || !ok {
			fmt.Fprintln(os.Stderr, "outside:", ok, err)
			os.Exit(1)
		}
		fmt.Printf("bubble %d slept %v\n", i, slept)
	}
}
