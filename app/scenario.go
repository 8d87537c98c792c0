// Package app holds lockstep's applications: the blog's REQ client with
// its application queue (F24), the blog's REP server and its reply
// policy, and the built-in scenarios that combine them ([Scenarios]).
// They are described once here and run by every backend's driver.
package app

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zeromq-lockstep/lockstep/model"
)

// Scenario is a small ZeroMQ application: REP servers with a reply policy
// and REQ clients that send on an interval through an application queue.
// Both the simulator and realnet run the same Scenario values.
type Scenario struct {
	Name    string
	Summary string
	Servers []Server
	Clients []Client
}

// Server is one REP server process, bound to Endpoint.
type Server struct {
	Name     string
	Endpoint string
	Options  model.Options
	// Policy says how the application answers its n-th request (n from 1,
	// reset when the process restarts).
	Policy ReplyPolicy
}

// ReplyPolicy decides, for the n-th request a server process reads,
// whether it answers and after how long.
type ReplyPolicy func(n int) (delay time.Duration, answer bool)

// Client is one REQ client process.
type Client struct {
	Name string
	// Connect lists the endpoints the REQ connects to, in order (F8).
	Connect  []string
	Options  model.Options
	Interval time.Duration // how often the application sends
	// Drift is how much later than its Interval each send comes: the
	// blog's Node (0.10) re-armed setInterval from when its callback ran,
	// on timers of millisecond granularity, so each tick came about 1 ms
	// late on the last, and the tick due with a slow reply fell after it
	// (the blog prints 7 and 14 queued after its bursts, not 8 and 15).
	Drift time.Duration
	// Start is the first send; zero means one Interval (and Drift) after
	// the start.
	Start time.Duration
}

// FirstSend is when the client first sends.
func (c Client) FirstSend() time.Duration {
	if c.Start > 0 {
		return c.Start
	}
	return c.Interval + c.Drift
}

// NextSend is when the client sends next after the send due at due.
func (c Client) NextSend(due time.Duration) time.Duration { return due + c.Interval + c.Drift }

// Request is the payload of a client's k-th request (k from 0): the
// counter, as the blog's client sends msgcount++.
func Request(k int) model.Message { return model.Message{strconv.Itoa(k)} }

// Reply is the payload a server answers req with: JSON.stringify({response:
// d.toString()}) in the blog's server.
func Reply(req model.Message) model.Message {
	// The same bytes as json.Marshal of {"response": ...}, without the
	// map: this runs for every reply of an hour-long simulation. A text
	// json.Marshal would leave as it is (the blog's counters) is copied
	// in one allocation; any other goes through json.Marshal.
	t := req.Text()
	if !jsonPlain(t) {
		b, _ := json.Marshal(t)
		return model.Message{`{"response":` + string(b) + `}`}
	}
	var sb strings.Builder
	sb.Grow(len(`{"response":""}`) + len(t))
	sb.WriteString(`{"response":"`)
	sb.WriteString(t)
	sb.WriteString(`"}`)
	return model.Message{sb.String()}
}

// jsonPlain reports whether json.Marshal writes s as it is between quotes:
// printable ASCII other than the quote, the backslash and the three
// characters it escapes for HTML.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// BlogPolicy is the blog's server: every third request by its own count is
// answered after one second, the others after one millisecond.
func BlogPolicy(n int) (time.Duration, bool) {
	if n%3 == 0 {
		return time.Second, true
	}
	return time.Millisecond, true
}

// NeverReply is a server that reads requests and never answers.
func NeverReply(int) (time.Duration, bool) { return 0, false }

// DefaultDown is how long a crashed server stays down unless told.
const DefaultDown = time.Second

// ServerPort is the port the blog's server binds.
const ServerPort = 5454

func blogServer(name string) Server {
	return Server{Name: name, Endpoint: fmt.Sprintf("tcp://%s:%d", name, ServerPort), Policy: BlogPolicy}
}

func blogClient(name string, endpoints ...string) Client {
	return Client{Name: name, Connect: endpoints, Interval: 100 * time.Millisecond, Drift: time.Millisecond}
}

// Scenarios returns the built-in scenarios, in the order `lockstep
// scenarios` lists them.
func Scenarios() []Scenario {
	srv := blogServer("server")
	a, b := blogServer("server-a"), blogServer("server-b")
	silent := srv
	silent.Policy = NeverReply
	list := []Scenario{
		{Name: "seed", Summary: "the blog's experiment: a client sends every 100ms; the server answers after 1ms, every third request after 1s",
			Servers: []Server{srv}, Clients: []Client{blogClient("client", srv.Endpoint)}},
		{Name: "no-reply", Summary: "the server reads requests and never answers: the client's queue grows without bound",
			Servers: []Server{silent}, Clients: []Client{blogClient("client", silent.Endpoint)}},
		{Name: "two-servers", Summary: "one client connected to two blog servers: requests alternate round-robin",
			Servers: []Server{a, b}, Clients: []Client{blogClient("client", a.Endpoint, b.Endpoint)}},
		{Name: "two-clients", Summary: "two clients sharing one blog server: the server fair-queues between them",
			Servers: []Server{srv}, Clients: []Client{blogClient("client-1", srv.Endpoint), func() Client {
				c := blogClient("client-2", srv.Endpoint)
				c.Start = 150 * time.Millisecond
				return c
			}()}},
	}
	return list
}

// ScenarioNames returns the built-in scenario names in order.
func ScenarioNames() []string {
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// LookupScenario returns the built-in scenario called name.
func LookupScenario(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(ScenarioNames(), ", "))
}
