// Package trace is what lockstep prints: the events of a run ([Event]),
// their formats ([Formats]: text for people, node as the blog's client
// prints, jsonl for programs, msc as a Mermaid sequence diagram), one
// streaming [Writer], and the [Outcome] of a run, which is what two
// backends are compared on.
//
// Every backend reports in this one vocabulary: the kinds of event are
// [model.EventKinds], and a model observation becomes an event only
// through [FromObservation].
//
//	tw, _ := trace.NewWriter(os.Stdout, "text")
//	tw.Write(trace.Event{At: time.Second, Actor: "client", Kind: model.EventSend, Msg: "7", HasMsg: true})
//	tw.Close()
package trace
