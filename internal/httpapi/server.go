// Package httpapi is Koe's HTTP surface: the mux and its middleware, the
// GraphQL endpoint and its websocket transport, signed audio downloads, voice
// previews, and health checks.
package httpapi

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"go.opentelemetry.io/otel/trace"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/signedurl"
)

// Config is what the HTTP surface needs.
type Config struct {
	GraphQL       http.Handler
	Authenticator Authenticator
	// Limits rate-limits /query and voice previews.
	Limits *Limits
	// Unsubscribe turns off the preference a signed unsubscribe token names.
	Unsubscribe func(ctx context.Context, token string) error
	// StripeWebhook applies a Stripe event from its raw body and signature.
	StripeWebhook func(ctx context.Context, body []byte, signature string) error
	Bucket        *blob.Bucket
	Signer        *signedurl.Signer
	// Previews returns the blob key of a voice's preview, making it if needed.
	Previews func(ctx context.Context, voiceID string) (string, error)
	// Lexicon imports and exports people's pronunciation lexicons.
	Lexicon Lexicon
	// Ready reports whether the server can take traffic (database reachable,
	// migrations done, not shutting down).
	Ready      func(ctx context.Context) error
	Playground bool
	// WebDir is the web app's static build, served at / (Playground moves to
	// /playground); empty: no web app.
	WebDir string
	// Web is what /app-config.json tells the web app.
	Web            WebConfig
	AllowedOrigins []string
	MaxBodyBytes   int64
	Log            *slog.Logger
	// Gauges are the app's values for /metrics.
	Gauges *metrics.Gauges
	// MetricsToken, when set, serves /metrics on this listener to callers
	// with "Authorization: Bearer <MetricsToken>"; empty: /metrics is not
	// here (KOE_METRICS_ADDR serves it on a listener of its own).
	MetricsToken string
	// Tracer traces requests; nil: tracing is off.
	Tracer trace.TracerProvider
	// ServeAPI is false on worker-only processes: they answer health checks
	// and nothing else.
	ServeAPI bool
}

// NewHandler returns the whole HTTP surface.
func NewHandler(c Config) http.Handler {
	mux := http.NewServeMux()
	if c.MetricsToken != "" {
		mux.Handle("GET /metrics", requireToken(c.MetricsToken, metrics.Handler(c.Gauges)))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := c.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if !c.ServeAPI {
		return traced(c.Tracer, requestContext(c.Log, mux))
	}
	mux.Handle("/query", noStore(authenticate(c.Authenticator, c.Limits, c.Limits.Middleware(c.GraphQL))))
	mux.HandleFunc("GET /audio/{name}", serveAudio(c))
	mux.HandleFunc("POST /webhooks/stripe", stripeWebhook(c))
	mux.HandleFunc("GET /unsubscribe", unsubscribePage)
	mux.HandleFunc("POST /unsubscribe", unsubscribe(c))
	mux.Handle("GET /voices/{id}/preview", authenticate(c.Authenticator, c.Limits, c.Limits.Middleware(servePreview(c))))
	mux.Handle("/v1/lexicon", noStore(authenticate(c.Authenticator, c.Limits, c.Limits.Middleware(serveLexicon(c)))))
	mux.HandleFunc("GET /app-config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, http.StatusOK, c.Web)
	})
	switch {
	case c.WebDir != "":
		mux.Handle("/", serveWeb(c.WebDir, c.Web, c.Log))
		if c.Playground {
			mux.Handle("GET /playground", playground.Handler("Koe", "/query"))
		}
	case c.Playground:
		mux.Handle("GET /{$}", playground.Handler("Koe", "/query"))
	default:
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"service": "koe", "graphql": "/query"})
		})
	}
	return traced(c.Tracer, requestContext(c.Log, cors(c.AllowedOrigins, limitBody(c.MaxBodyBytes, mux))))
}

// requireToken lets through only requests that carry "Authorization: Bearer
// <token>", compared in constant time; others get 401.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := bearer(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="koe-metrics"`)
			http.Error(w, "this needs the metrics token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noStore marks answers as not to be kept by any cache: GraphQL answers are
// one caller's data, and GET queries would otherwise be cacheable.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// traced is next with a span per request when tp is set.
func traced(tp trace.TracerProvider, next http.Handler) http.Handler {
	if tp == nil {
		return next
	}
	return traceHTTP(tp, next)
}

// requestContext gives each request an id (the caller's X-Request-Id when it
// looks sane), recovers panics, and logs the request when it ends.
func requestContext(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = logging.NewRequestID()
		}
		ctx := logging.WithRequestID(r.Context(), id)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		req := r.WithContext(ctx)
		defer func() {
			if code := rec.status.Load(); code != http.StatusSwitchingProtocols { // a socket's life is no latency
				route := req.Pattern
				if route == "" {
					route = "unmatched"
				}
				nameSpan(req, route)
				metrics.HTTPDuration.WithLabelValues(route, r.Method, strconv.Itoa(int(code))).Observe(time.Since(start).Seconds())
			}
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(ctx, "panic", "panic", v, "path", r.URL.Path)
				if rec.status.Load() == 0 {
					writeJSON(rec, http.StatusInternalServerError, map[string]string{"error": "internal server error", "requestId": id})
				}
			}
			log.DebugContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status.Load(), "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, req)
	})
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// statusRecorder remembers the status code for the access log. It passes
// Hijack and Flush through, which websockets and streaming need.
type statusRecorder struct {
	http.ResponseWriter
	status atomic.Int32
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status.CompareAndSwap(0, int32(code))
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.status.CompareAndSwap(0, http.StatusOK)
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to a websocket; gorilla asks for http.Hijacker
// directly rather than through http.ResponseController.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.status.CompareAndSwap(0, http.StatusSwitchingProtocols)
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// Flush passes streaming responses through.
func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// limitBody caps request bodies: a declared length over the cap is refused
// with 413 before anything is read, and a body that turns out longer stops
// being read at the cap.
func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, apperror.New(apperror.BadUserInput, "the request body is over %d bytes", n))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// cors lets the browser origins of KOE_ALLOWED_ORIGINS call the API. Koe uses
// no cookies, so there is no credentialed CORS and no CSRF surface.
func cors(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(allowed, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Content-Length, Content-Range")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id, Range")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// OriginChecker allows websocket upgrades from clients that send no Origin
// (scripts, servers), from the server's own origin, and from the allowed
// browser origins.
func OriginChecker(allowed []string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" || slices.Contains(allowed, origin) {
			return true
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}

// authenticate puts the principal of an Authorization header on the
// request's context. A request without one goes on anonymously (public fields
// work, @auth fields answer UNAUTHENTICATED); a request with a bad one is
// refused with 401 so a broken key never passes for no key. A client address
// that failed too often lately is refused with 429 before its credential is
// looked up or verified (limits.refuseFailing).
func authenticate(a Authenticator, limits *Limits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithLocale(limits.identify(r), r.Header.Get("Accept-Language")))
		ctx := r.Context()
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		if e := limits.refuseFailing(ctx); e != nil {
			refuse(w, e)
			return
		}
		secret, ok := bearer(header)
		if !ok {
			limits.authFailed(ctx)
			writeGraphQLError(w, http.StatusUnauthorized, errNotBearer)
			return
		}
		p, err := a.Authenticate(ctx, secret)
		if err != nil {
			var e *apperror.Error
			if !errors.As(err, &e) {
				e = apperror.New(apperror.Internal, "internal server error; quote request id %s when asking for help", logging.RequestID(ctx))
				writeGraphQLError(w, http.StatusInternalServerError, e)
				return
			}
			limits.authFailed(ctx)
			w.Header().Set("WWW-Authenticate", `Bearer realm="koe"`)
			writeGraphQLError(w, http.StatusUnauthorized, e)
			return
		}
		// A websocket opened by this request checks the credential again
		// at each operation.
		next.ServeHTTP(w, r.WithContext(withCredential(auth.WithPrincipal(ctx, p), secret)))
	})
}

func writeGraphQLError(w http.ResponseWriter, status int, e *apperror.Error) {
	ext := map[string]any{"code": string(e.Code)}
	if e.RetryAfter > 0 {
		ext["retryAfterSeconds"] = ceilSeconds(e.RetryAfter)
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": e.Message, "extensions": ext}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// unsubscribePage asks before unsubscribing: a GET must change nothing,
// because mail scanners follow links. The button posts back to the same
// link; mail clients do the same POST themselves for one-click unsubscribe
// (RFC 8058).
func unsubscribePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	_ = unsubscribeTemplate.Execute(w, map[string]string{"Action": r.URL.RequestURI(), "Done": ""})
}

// unsubscribe turns the link's preference off, without signing in.
func unsubscribe(c Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := c.Unsubscribe(r.Context(), r.URL.Query().Get("t"))
		if apperror.CodeOf(err) == apperror.BadUserInput {
			http.Error(w, "this unsubscribe link is not valid", http.StatusBadRequest)
			return
		}
		if err != nil {
			c.Log.ErrorContext(r.Context(), "unsubscribe", "err", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_ = unsubscribeTemplate.Execute(w, map[string]string{"Done": "yes"})
	}
}

var unsubscribeTemplate = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Koe — unsubscribe</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font:inherit;padding:.5rem 1rem}</style></head><body>
{{if .Done}}<h1>You are unsubscribed</h1><p>We will not send you these emails any more. 今後このメールはお送りしません。</p>
{{else}}<h1>Unsubscribe?</h1><p>Stop receiving these emails from Koe. このメールの配信を停止しますか？</p>
<form method="post" action="{{.Action}}"><button type="submit">Unsubscribe / 配信停止</button></form>{{end}}
</body></html>`))

// maxWebhookBody bounds Stripe event bodies (Stripe's are far smaller).
const maxWebhookBody = 1 << 20

// webhookRefusalsPerMinute is how many Stripe webhook calls one client
// address may have refused (no or a bad signature) in a minute before its
// calls are answered 429 unread. Stripe's own deliveries verify and never
// count; a misconfigured secret still shows in the log, a few lines a minute.
const webhookRefusalsPerMinute = 10

// stripeWebhook verifies and applies a Stripe event: 200 once applied (or
// when seen before, or of a type Koe ignores), 400 for a bad signature with
// nothing stored, 429 for a client address whose calls keep being refused,
// 503 without Stripe configured, and 500 when applying failed so Stripe
// delivers it again.
func stripeWebhook(c Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := c.Limits.identify(r)
		if e := c.Limits.refuseRefused(ctx, "webhook", webhookRefusalsPerMinute, "refused webhook calls"); e != nil {
			metrics.StripeWebhooks.WithLabelValues("limited").Inc()
			w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(e.RetryAfter)))
			http.Error(w, e.Message, http.StatusTooManyRequests)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
		if err != nil || len(body) > maxWebhookBody {
			http.Error(w, "body too large or unreadable", http.StatusBadRequest)
			return
		}
		err = c.StripeWebhook(r.Context(), body, r.Header.Get("Stripe-Signature"))
		switch {
		case err == nil:
		case apperror.CodeOf(err) == apperror.BadUserInput:
			metrics.StripeWebhooks.WithLabelValues("rejected").Inc()
			if c.Limits.countRefusal(ctx, "webhook", webhookRefusalsPerMinute) {
				// One line when the address's allowance runs out, however
				// many calls follow.
				c.Log.WarnContext(ctx, "stripe webhook: refusing this address's calls for the rest of the minute",
					"addr", clientAddress(ctx), "refused", webhookRefusalsPerMinute)
			}
			http.Error(w, err.(*apperror.Error).Message, http.StatusBadRequest)
			return
		case apperror.CodeOf(err) == apperror.BillingNotConfigured:
			http.Error(w, "billing is not configured", http.StatusServiceUnavailable)
			return
		default:
			metrics.StripeWebhooks.WithLabelValues("error").Inc()
			c.Log.ErrorContext(r.Context(), "stripe webhook", "err", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"received": true})
	}
}

var audioNamePattern = regexp.MustCompile(`^gen_[0-9a-z]{26}\.(wav|mp3|ogg)$`)

// serveAudio serves a generation's audio by its signed link, with Range
// support: 403 for a bad or expired signature, 404 for a deleted file.
func serveAudio(c Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := c.Signer.Verify(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		name := r.PathValue("name")
		if !audioNamePattern.MatchString(name) {
			http.NotFound(w, r)
			return
		}
		// The link is private but stable for its lifetime: the browser may
		// keep it, shared caches may not.
		serveBlob(c, w, r, "audio/"+name, "private, max-age=3600, immutable")
	}
}

// servePreview serves a voice's sample, making it on first request.
func servePreview(c Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := c.Previews(r.Context(), r.PathValue("id"))
		if apperror.CodeOf(err) == apperror.NotFound {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			c.Log.ErrorContext(r.Context(), "voice preview", "voice", r.PathValue("id"), "err", err)
			http.Error(w, "the preview could not be made", http.StatusInternalServerError)
			return
		}
		serveBlob(c, w, r, key, "public, max-age=86400")
	}
}

func serveBlob(c Config, w http.ResponseWriter, r *http.Request, key, cacheControl string) {
	rd, err := c.Bucket.NewReader(r.Context(), key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.Log.ErrorContext(r.Context(), "open blob", "key", key, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", rd.ContentType())
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, strings.TrimPrefix(key, "audio/"), rd.ModTime(), rd)
}
