package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
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
// by replicas when it is Redis) and counts open websockets and
// subscriptions per principal (per process).
type Limits struct {
	Limiter ratelimit.Limiter
	Of      LimitsFunc
	// Anonymous apply to callers without credentials, per IP address.
	Anonymous PlanLimits
	Log       *slog.Logger

	mu   sync.Mutex
	open map[string]int // "ws:<key>" and "sub:<key>" → count
}

type limitKey struct{}

// limited is who a request counts against and with which limits.
type limited struct {
	key    string
	limits PlanLimits
}

// of returns the key and limits of the request's caller, or false when the
// caller is not limited.
func (l *Limits) of(ctx context.Context, r *http.Request) (limited, bool, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return limited{key: "ip:" + host, limits: l.Anonymous}, true, nil
	}
	pl, unlimited, err := l.Of(ctx, p)
	if err != nil || unlimited {
		return limited{}, false, err
	}
	return limited{key: "user:" + p.UserID, limits: pl}, true, nil
}

// Middleware refuses requests over the caller's rate with 429, RATE_LIMITED
// and Retry-After, and tells every caller where they stand in RateLimit-*
// headers. It runs after authentication.
func (l *Limits) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		who, ok, err := l.of(ctx, r)
		if err != nil {
			l.Log.ErrorContext(ctx, "rate limit: limits", "err", err)
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		d, err := l.Limiter.Allow(ctx, who.key, who.limits.RequestsPerMinute)
		if err != nil {
			// The limiter (Redis) is down: serving beats refusing everyone.
			l.Log.WarnContext(ctx, "rate limit unavailable; allowing", "err", err)
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, limitKey{}, who)))
			return
		}
		h := w.Header()
		h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
		h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=60", d.Limit))
		if !d.Allowed {
			h.Set("Retry-After", strconv.Itoa(ceilSeconds(d.RetryAfter)))
			writeGraphQLError(w, http.StatusTooManyRequests, &apperror.Error{
				Code: apperror.RateLimited, RetryAfter: d.RetryAfter,
				Message: fmt.Sprintf("more than %d requests a minute; try again in %d s", d.Limit, ceilSeconds(d.RetryAfter)),
			})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, limitKey{}, who)))
	})
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

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
