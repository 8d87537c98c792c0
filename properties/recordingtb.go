package properties

import (
	"fmt"
	"strings"
)

// RecordingTB is a rapid.TB that records a failure instead of failing a
// test: replay uses it to run a fail file outside go test, and the teeth
// tests to assert that a property does fail on a mutant.
//
//	tb := properties.NewRecordingTB("TestLossOnRestart")
//	tb.Run(func() { rapid.Check(tb, p.Check(mut)) })
//	if tb.Failed() { ... tb.Output() ... }
type RecordingTB struct {
	name   string
	failed bool
	log    strings.Builder
}

// NewRecordingTB returns a RecordingTB that reports name as its test name,
// which is also the folder rapid saves fail files under.
func NewRecordingTB(name string) *RecordingTB { return &RecordingTB{name: name} }

// stopTest ends a check the way testing's FailNow and SkipNow do.
type stopTest struct{}

// Run runs do, absorbing the stop of a FailNow, Fatal or Skip in it.
func (r *RecordingTB) Run(do func()) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopTest); !ok {
				panic(v)
			}
		}
	}()
	do()
}

// Output is everything logged so far.
func (r *RecordingTB) Output() string { return r.log.String() }

func (r *RecordingTB) Helper()                          {}
func (r *RecordingTB) Name() string                     { return r.name }
func (r *RecordingTB) Logf(format string, args ...any)  { fmt.Fprintf(&r.log, format+"\n", args...) }
func (r *RecordingTB) Log(args ...any)                  { fmt.Fprintln(&r.log, args...) }
func (r *RecordingTB) Skipf(format string, args ...any) { r.Logf(format, args...); panic(stopTest{}) }
func (r *RecordingTB) Skip(args ...any)                 { r.Log(args...); panic(stopTest{}) }
func (r *RecordingTB) SkipNow()                         { panic(stopTest{}) }
func (r *RecordingTB) Errorf(format string, args ...any) {
	r.failed = true
	r.Logf(format, args...)
}
func (r *RecordingTB) Error(args ...any) { r.failed = true; r.Log(args...) }
func (r *RecordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(stopTest{})
}
func (r *RecordingTB) Fatal(args ...any) { r.Error(args...); panic(stopTest{}) }
func (r *RecordingTB) FailNow()          { r.failed = true; panic(stopTest{}) }
func (r *RecordingTB) Fail()             { r.failed = true }
func (r *RecordingTB) Failed() bool      { return r.failed }
