//go:build !teeth

package properties_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
	"github.com/zeromq-lockstep/lockstep/properties"
)

// TestReplayRefusesMutantsWithoutTeeth: a fail file that records a
// deliberate defect cannot be replayed by a build that has none; replay
// says so and how to rebuild, rather than reporting the failure gone.
func TestReplayRefusesMutantsWithoutTeeth(t *testing.T) {
	data := []byte(fmt.Sprintf("# 2026/11/26 00:33:20.053670 [TestModelAgreesWithZMQ4] lockstep property TestModelAgreesWithZMQ4 version %d\n"+
		"# 2026/11/26 00:33:20.053672 [TestModelAgreesWithZMQ4] [rapid] draw servers: 1\n"+
		"v0.4.8#4796482530128101878\n0x0", properties.Version))
	mut, _ := json.Marshal(model.Mutation{SecondSend: true}) // as the properties log it
	lines := strings.SplitN(string(data), "\n", 2)
	withMutant := lines[0] + "\n# 2026/11/26 00:33:20.053671 [TestModelAgreesWithZMQ4] lockstep mutation " + string(mut) + "\n" + lines[1]
	file := filepath.Join(t.TempDir(), "mutant.fail")
	if err := os.WriteFile(file, []byte(withMutant), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := properties.Replay(file)
	if !errors.Is(err, properties.ErrBadFailFile) || !strings.Contains(err.Error(), "-tags teeth") {
		t.Fatalf("replay of a mutant's fail file without teeth: got %v, want ErrBadFailFile naming -tags teeth", err)
	}
}
