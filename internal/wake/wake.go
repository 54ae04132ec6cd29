// Package wake lets a subscription resolver tell the transport when the
// channel it returned has something to receive, so the transport need not
// park a goroutine on the channel for the subscription's whole life.
//
// The transport puts a Hook in the context it resolves the subscription
// with. A resolver that can keep the contract takes the hook's function
// with Take and calls it after every send to its channel, except a send that
// replaces a value not yet received, and once after closing the channel.
// The transport then receives from the channel once per call, and so never
// waits on it (beyond a send that is replacing a value at that moment). A
// resolver that does not take the function is read the usual way, by a
// goroutine that waits on its channel.
//
// A resolver that keeps at most one value in its channel and holds the rest
// itself takes the function with TakeRefilled instead: the transport then
// also calls the resolver's refill function after each receive, when the
// channel has room for the next value.
package wake

import (
	"context"
	"sync/atomic"
)

type key struct{}

// Hook is one subscription's wake function and whether a resolver took it.
type Hook struct {
	fn     func()
	taken  atomic.Bool
	refill func() // set before taken
}

// With returns ctx carrying fn for the resolver, and the hook that tells the
// transport whether the resolver took it.
func With(ctx context.Context, fn func()) (context.Context, *Hook) {
	h := &Hook{fn: fn}
	return context.WithValue(ctx, key{}, h), h
}

// Take returns the transport's wake function, or nil when the transport
// reads the channel with a goroutine of its own.
func Take(ctx context.Context) func() {
	h, _ := ctx.Value(key{}).(*Hook)
	if h == nil {
		return nil
	}
	h.taken.Store(true)
	return h.fn
}

// TakeRefilled is Take for a resolver that refills its channel: refill is
// called after each receive.
func TakeRefilled(ctx context.Context, refill func()) func() {
	h, _ := ctx.Value(key{}).(*Hook)
	if h == nil {
		return nil
	}
	h.refill = refill
	h.taken.Store(true)
	return h.fn
}

// Received tells a resolver that took the function with TakeRefilled that
// its channel was received from.
func (h *Hook) Received() {
	if h.taken.Load() && h.refill != nil {
		h.refill()
	}
}

// Taken reports whether a resolver took the wake function.
func (h *Hook) Taken() bool {
	return h.taken.Load()
}
