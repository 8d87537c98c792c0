package model

import "time"

// Defaults of libzmq 4.3 for the options the model knows.
const (
	DefaultHWM          = 1000                   // ZMQ_SNDHWM, ZMQ_RCVHWM (F18)
	DefaultReconnectIvl = 100 * time.Millisecond // ZMQ_RECONNECT_IVL (F23)
	// NoReconnect as ReconnectIvl is ZMQ_RECONNECT_IVL=-1: never retry (F23).
	NoReconnect time.Duration = -1
)

// Options are the socket options of one socket. The zero value is libzmq's
// default for every field.
type Options struct {
	// ReqCorrelate is ZMQ_REQ_CORRELATE: prefix each request with a 4-byte
	// id and discard replies that carry another (F7).
	ReqCorrelate bool
	// ReqRelaxed is ZMQ_REQ_RELAXED: allow a new send while a reply is
	// awaited; the new request supersedes the old one (F20).
	ReqRelaxed bool
	// Immediate is ZMQ_IMMEDIATE: queue only on completed connections
	// (F12, F13, F21).
	Immediate bool
	// SndHWM and RcvHWM are ZMQ_SNDHWM and ZMQ_RCVHWM in whole messages per
	// pipe; zero means DefaultHWM (F18).
	SndHWM, RcvHWM int
	// ReconnectIvl is ZMQ_RECONNECT_IVL; zero means DefaultReconnectIvl and
	// NoReconnect disables reconnection (F23).
	ReconnectIvl time.Duration
	// ReconnectIvlMax is ZMQ_RECONNECT_IVL_MAX: when larger than
	// ReconnectIvl the base interval doubles after each retry up to it (F23).
	ReconnectIvlMax time.Duration
}

func (o Options) sndHWM() int {
	if o.SndHWM <= 0 {
		return DefaultHWM
	}
	return o.SndHWM
}

func (o Options) rcvHWM() int {
	if o.RcvHWM <= 0 {
		return DefaultHWM
	}
	return o.RcvHWM
}

func (o Options) reconnectIvl() time.Duration {
	if o.ReconnectIvl == 0 {
		return DefaultReconnectIvl
	}
	return o.ReconnectIvl
}

// lwm is libzmq's low-water mark of a pipe whose high-water mark is hwm:
// its reader tells the writer what it has read once every lwm messages
// (pipe.cpp, compute_lwm; F18).
func lwm(hwm int) int { return (hwm + 1) / 2 }
