package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/ratelimit"
)

// PlanLimits are what one principal may use at once.
type PlanLimits struct {
	RequestsPerMinute int
	Websockets        int
	Subscriptions     int
}

// LimitsFunc returns the limits of a principal; unlimited is true for
// operators, whom no limit applies to.
type LimitsFunc func(ctx context.Context, p auth.Principal) (limits PlanLimits, unlimited bool, err error)

// Limits enforces requests per minute (through a ratelimit.Limiter, shared
// by replicas when it is Redis) on every HTTP request and every operation
// started on a websocket, counts open websockets and subscriptions per
// principal (per process), and slows down guessing: a client address that
// keeps failing to authenticate is refused before its credentials are read.
type Limits struct {
	Limiter ratelimit.Limiter
	Of      LimitsFunc
	// Anonymous apply to callers without credentials, per client address.
	Anonymous PlanLimits
	// AuthFailuresPerMinute is how many failed authentications a client
	// address may make a minute (a bucket refilled at that rate), counted
	// in Failures; 0: no limit.
	AuthFailuresPerMinute int
	// Failures counts failed authentications. It is per process even when
	// Limiter is shared: looking at it before every authenticated request
	// then costs no round trip, and an address is still refused after
	// AuthFailuresPerMinute failures at each replica it reaches.
	Failures *ratelimit.Memory
	// TrustedProxies are the networks of the proxies in front of Koe: from
	// a peer inside one, the client address is the right-most
	// X-Forwarded-For entry that is not itself a trusted proxy.
	TrustedProxies []netip.Prefix
	Log            *slog.Logger

	mu   sync.Mutex
	open map[string]int // "ws:<key>" and "sub:<key>" → count
}

type limitKey struct{}

// limited is who a request counts against and with which limits.
type limited struct {
	key    string
	limits PlanLimits
}

// of returns the key and limits of ctx's caller, or false when the caller
// is not limited.
func (l *Limits) of(ctx context.Context) (limited, bool, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return limited{key: "ip:" + clientAddress(ctx), limits: l.Anonymous}, true, nil
	}
	pl, unlimited, err := l.Of(ctx, p)
	if err != nil || unlimited {
		return limited{}, false, err
	}
	return limited{key: "user:" + p.UserID, limits: pl}, true, nil
}

// take charges one request to ctx's caller. limited is false for callers
// no rate applies to; d is nil when the limiter could not decide (Redis is
// down), and then serving beats refusing everyone.
func (l *Limits) take(ctx context.Context) (who limited, isLimited bool, d *ratelimit.Decision) {
	who, isLimited, err := l.of(ctx)
	if err != nil {
		l.Log.ErrorContext(ctx, "rate limit: limits", "err", err)
	}
	if !isLimited {
		return who, false, nil
	}
	decision, err := l.Limiter.Allow(ctx, who.key, who.limits.RequestsPerMinute)
	if err != nil {
		l.Log.WarnContext(ctx, "rate limit unavailable; allowing", "err", err)
		return who, true, nil
	}
	return who, true, &decision
}

// Middleware refuses requests over the caller's rate with 429, RATE_LIMITED
// and Retry-After, and tells every caller where they stand in RateLimit-*
// headers. It runs after authentication.
func (l *Limits) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(l.identify(r))
		who, isLimited, d := l.take(r.Context())
		if !isLimited {
			next.ServeHTTP(w, r)
			return
		}
		if d != nil {
			h := w.Header()
			h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
			h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
			h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
			h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=60", d.Limit))
			if !d.Allowed {
				refuse(w, tooManyRequests(*d))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), limitKey{}, who)))
	})
}

// tooManyRequests is the RATE_LIMITED error of a refused Decision.
func tooManyRequests(d ratelimit.Decision) *apperror.Error {
	return &apperror.Error{
		Code: apperror.RateLimited, RetryAfter: d.RetryAfter,
		Message: fmt.Sprintf("more than %d requests a minute; try again in %d s", d.Limit, ceilSeconds(d.RetryAfter)),
	}
}

// refuse answers 429 with e and its Retry-After.
func refuse(w http.ResponseWriter, e *apperror.Error) {
	w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(e.RetryAfter)))
	writeGraphQLError(w, http.StatusTooManyRequests, e)
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// chargeOperation takes one request from the rate of ctx's caller for an
// operation started on a websocket, as Middleware does for an HTTP request:
// the same bucket, so HTTP and sockets share one budget. Over it, the
// operation gets RATE_LIMITED; the socket stays open.
func (l *Limits) chargeOperation(ctx context.Context) error {
	if _, _, d := l.take(ctx); d != nil && !d.Allowed {
		return tooManyRequests(*d)
	}
	return nil
}

// socketQueries is how many queries and mutations one socket may run at
// once. Koe's clients send those over HTTP; a browser runs six HTTP
// requests at once per host, and a script that wants more can use HTTP too.
const socketQueries = 4

// socketOperations is how many operations one socket of ctx's caller may
// have in flight (started and not yet ended), live subscriptions included:
// twice their plan's live subscriptions, so a client can replace its
// subscriptions without waiting for the old ones to end, plus
// socketQueries; and how many of them may be queries or mutations. Zero:
// no limit (operators).
func (l *Limits) socketOperations(ctx context.Context) (operations, queries int) {
	who, ok, _ := l.of(ctx)
	if !ok {
		return 0, 0
	}
	return 2*who.limits.Subscriptions + socketQueries, socketQueries
}

// refuseFailing returns RATE_LIMITED when ctx's client address has failed
// to authenticate AuthFailuresPerMinute times lately: asked before a
// credential is looked up or verified, so guessing costs the server
// nothing. It refuses valid credentials from that address too, which is
// the price of asking before reading them.
func (l *Limits) refuseFailing(ctx context.Context) *apperror.Error {
	return l.refuseRefused(ctx, "auth", l.AuthFailuresPerMinute, "failed sign-ins")
}

// authFailed counts a failed authentication against ctx's client address.
func (l *Limits) authFailed(ctx context.Context) {
	l.countRefusal(ctx, "auth", l.AuthFailuresPerMinute)
}

// refuseRefused returns RATE_LIMITED when ctx's client address had perMinute
// calls of kind refused lately (counted by countRefusal, in Failures); what
// names them in the message. perMinute 0: no limit.
func (l *Limits) refuseRefused(ctx context.Context, kind string, perMinute int, what string) *apperror.Error {
	if l.Failures == nil || perMinute <= 0 {
		return nil
	}
	d := l.Failures.Peek(kind+":"+clientAddress(ctx), perMinute)
	if d.Allowed {
		return nil
	}
	return &apperror.Error{
		Code: apperror.RateLimited, RetryAfter: d.RetryAfter,
		Message: fmt.Sprintf("more than %d %s a minute from this address; try again in %d s", d.Limit, what, ceilSeconds(d.RetryAfter)),
	}
}

// countRefusal counts one refused call of kind against ctx's client address,
// and reports whether that used up the address's allowance.
func (l *Limits) countRefusal(ctx context.Context, kind string, perMinute int) (exhausted bool) {
	if l.Failures == nil || perMinute <= 0 {
		return false
	}
	d, _ := l.Failures.Allow(ctx, kind+":"+clientAddress(ctx), perMinute)
	return d.Remaining == 0
}

type clientAddressKey struct{}

// identify returns r's context carrying its client address (see
// TrustedProxies), unless it carries one already.
func (l *Limits) identify(r *http.Request) context.Context {
	ctx := r.Context()
	if _, ok := ctx.Value(clientAddressKey{}).(string); ok {
		return ctx
	}
	return context.WithValue(ctx, clientAddressKey{}, l.clientAddress(r))
}

// clientAddress is the address identify put on ctx: what anonymous limits
// and failed authentications are counted by.
func clientAddress(ctx context.Context) string {
	a, _ := ctx.Value(clientAddressKey{}).(string)
	return a
}

// clientAddress is r's TCP peer; when the peer is a trusted proxy, the
// right-most X-Forwarded-For entry that is not a trusted proxy (entries to
// its left are whatever the client claimed, so they are never believed).
// Behind proxies that all append, that is the client that reached the first
// of them.
func (l *Limits) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client := peer.Unmap()
	if !l.trusted(client) {
		return client.String()
	}
	headers := r.Header.Values("X-Forwarded-For")
	for i := len(headers) - 1; i >= 0; i-- {
		entries := strings.Split(headers[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := forwardedAddress(entries[j])
			if !ok {
				// A trusted proxy wrote something else: the last
				// proxy is as close to the client as is known.
				return client.String()
			}
			client = a
			if !l.trusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// forwardedAddress reads one X-Forwarded-For entry: an address, perhaps
// with a port.
func forwardedAddress(entry string) (netip.Addr, bool) {
	entry = strings.TrimSpace(entry)
	if a, err := netip.ParseAddr(entry); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func (l *Limits) trusted(a netip.Addr) bool {
	for _, p := range l.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hold counts one more open thing of kind for ctx's caller until ctx ends;
// false when the caller already holds max.
func (l *Limits) hold(ctx context.Context, kind string, who limited, max int) bool {
	key := kind + ":" + who.key
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open == nil {
		l.open = map[string]int{}
	}
	if l.open[key] >= max {
		return false
	}
	l.open[key]++
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.open[key]--; l.open[key] <= 0 {
			delete(l.open, key)
		}
	})
	return true
}

// holdSocket admits a socket for its (now authenticated) caller, or returns
// RATE_LIMITED when they have their plan's number of sockets open already.
func (l *Limits) holdSocket(ctx context.Context) error {
	who, ok := ctx.Value(limitKey{}).(limited)
	if p, signedIn := auth.FromContext(ctx); signedIn && (!ok || who.key != "user:"+p.UserID) {
		// Authenticated by connection_init: count against the user.
		pl, unlimited, err := l.Of(ctx, p)
		if err != nil {
			return err
		}
		if unlimited {
			return nil
		}
		who, ok = limited{key: "user:" + p.UserID, limits: pl}, true
	}
	if !ok {
		return nil
	}
	if !l.hold(ctx, "ws", who, who.limits.Websockets) {
		return &apperror.Error{Code: apperror.RateLimited, RetryAfter: time.Minute,
			Message: fmt.Sprintf("at most %d websockets may be open at once", who.limits.Websockets)}
	}
	return nil
}

// AroundOperations refuses a subscription over the caller's plan's number of
// live subscriptions; it counts until the subscription ends.
func (l *Limits) AroundOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return next(ctx) // @auth refuses it
	}
	pl, unlimited, err := l.Of(ctx, p)
	if err != nil || unlimited {
		return next(ctx)
	}
	if !l.hold(ctx, "sub", limited{key: "user:" + p.UserID, limits: pl}, pl.Subscriptions) {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("at most %d subscriptions may be live at once; end one first", pl.Subscriptions),
			Extensions: map[string]any{"code": string(apperror.RateLimited), "retryAfterSeconds": 60},
		}}})
	}
	return next(ctx)
}
