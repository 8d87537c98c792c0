package app

import (
	"encoding/json"
	"testing"

	"github.com/zeromq-lockstep/lockstep/model"
)

// TestReplyAsJSONMarshal checks Reply's fast path against json.Marshal of
// the object it stands for, on plain texts and on every kind it escapes.
func TestReplyAsJSONMarshal(t *testing.T) {
	for _, text := range []string{"", "0", "12345", "a b~", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "é", "\u2028", "\xff", "a\nb"} {
		want, _ := json.Marshal(map[string]string{"response": text})
		if got := Reply(model.Message{text}).Text(); got != string(want) {
			t.Errorf("Reply(%q) = %s, want %s", text, got, want)
		}
	}
}
