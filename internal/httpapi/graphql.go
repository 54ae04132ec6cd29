package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
	"go.opentelemetry.io/otel/trace"

	"github.com/koe-voice/koe/graph/loaders"
	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/tracing"
)

// Limits that keep one request from costing the server too much.
const (
	// complexityLimit bounds the work of one operation. A connection field
	// costs its page size times its children (see graph complexity), so
	// generations(first: 100) with voice and owner stays well inside it.
	complexityLimit = 5000
	// parserTokenLimit bounds the size of a query document.
	parserTokenLimit = 15000
)

// GraphQLConfig is what the GraphQL endpoint needs.
type GraphQLConfig struct {
	Schema        graphql.ExecutableSchema
	Authenticator Authenticator
	Loaders       loaders.Sources
	Websocket     *Websocket
	// Sockets tracks sockets by API key and by user, so a revoked key or a
	// changed user reaches the sockets already open.
	Sockets *Sockets
	// Limits charges websocket operations to the caller's rate and counts
	// sockets and subscriptions per principal.
	Limits        *Limits
	Introspection bool
	Log           *slog.Logger
	// Tracer traces operations and resolvers; nil: tracing is off.
	Tracer trace.TracerProvider
}

// Authenticator checks a bearer credential.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (auth.Principal, error)
}

// NewGraphQL returns the GraphQL endpoint: POST, GET and websockets (both
// graphql-transport-ws and the legacy graphql-ws), with a query cache,
// persisted queries, a complexity limit, a parser token limit, the error
// presenter and per-response dataloaders.
func NewGraphQL(c GraphQLConfig) *handler.Server {
	srv := handler.New(c.Schema)
	guard := &socketGuard{auth: c.Authenticator, sockets: c.Sockets, limits: c.Limits, now: time.Now}
	srv.AddTransport(&GraphQLWS{
		Sockets:  c.Websocket,
		Init:     guard.init,
		Start:    guard.start,
		InFlight: c.Limits.socketOperations,
		// Liveness is the socket layer's ping frames (every protocol,
		// answered by browsers themselves); graphql-ws clients also expect
		// "ka" messages.
		KeepAlive:   15 * time.Second,
		InitTimeout: 10 * time.Second,
		ErrorFunc: func(ctx context.Context, err error) {
			if !errors.Is(err, ErrPeerUnresponsive) {
				c.Log.DebugContext(ctx, "websocket", "err", err)
			}
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(parserTokenLimit)
	if c.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		// With the schema hidden, validation neither answers introspection
		// nor suggests names ("Did you mean …?") that would reveal it.
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(rulesWithoutIntrospection)
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(extension.FixedComplexityLimit(complexityLimit))
	srv.Use(shapeLimit{})
	srv.Use(refuseNUL{})
	srv.AroundOperations(c.Limits.AroundOperations)
	srv.AroundOperations(measure)
	if c.Tracer != nil {
		srv.Use(traceGraphQL{tracing.Tracer(c.Tracer)})
	}
	srv.SetErrorPresenter(presentError(c.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		c.Log.ErrorContext(ctx, "panic in resolver", "panic", v)
		return errors.New("panic in resolver")
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		// Fresh loaders for each response: each subscription event reads
		// current data, never what an earlier event cached. They start out
		// knowing the caller's user when this request read it.
		p, _ := auth.FromContext(ctx)
		return next(loaders.With(ctx, loaders.New(c.Loaders, p.User)))
	})
	return srv
}

// measure times queries and mutations by operation name. (GraphQLWS counts
// live subscriptions.)
func measure(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	kind := string(op.Operation.Operation)
	name := operationLabel(op.Operation.Name)
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		metrics.GraphQLDuration.WithLabelValues(name, kind).Observe(time.Since(op.Stats.OperationStart).Seconds())
		return resp
	}
}

// knownOperations are the queries and mutations of Koe's own web app
// (web/app/graphql), the operation names /metrics keeps apart. Names come
// from clients: taking any would let anyone fill the label slots (and the
// scraper's memory) with names of their own. A test keeps this list equal
// to the web app's.
var knownOperations = map[string]bool{
	"AdminBroadcasts": true, "AdminCancelBroadcast": true, "AdminCreateBroadcast": true, "AdminKpis": true,
	"AdminPlans": true, "AdminSetUserDisabled": true, "AdminSetUserRole": true, "AdminSetVoiceEnabled": true, "AdminUpsertPlan": true,
	"AdminUsers": true, "AdminVoices": true, "ApiKeys": true, "BillingOverview": true,
	"CancelGeneration": true, "CreateApiKey": true, "CreateBillingPortalSession": true, "CreateCheckoutSession": true,
	"CreateGeneration": true, "DeleteGeneration": true, "DeleteLexiconEntry": true, "Generation": true, "Generations": true, "Lexicon": true,
	"MarkNotificationsRead": true, "Me": true, "NotificationPreferences": true, "Notifications": true,
	"RetryGeneration": true, "RevokeApiKey": true, "UnreadNotificationCount": true, "UpdateNotificationPreferences": true, "UpsertLexiconEntry": true,
	"Voice": true, "VoiceLanguages": true, "Voices": true,
}

// operationLabel is the metric label of an operation name: the name of one
// of the web app's operations, "anonymous" without a name, "other" for any
// other name (scripts' own operations).
func operationLabel(name string) string {
	switch {
	case name == "":
		return "anonymous"
	case knownOperations[name]:
		return name
	}
	return "other"
}

// socketGuard authorizes websockets as HTTP requests are: at
// connection_init, then again at every operation and whenever the bus says
// the socket's user changed, with the credential the socket came with, and
// with every operation charged to the caller's rate.
type socketGuard struct {
	auth    Authenticator
	sockets *Sockets
	limits  *Limits
	now     func() time.Time
}

// init authenticates a socket from its connection_init payload
// ("Authorization": "Bearer <key>", also accepted as "authorization" or
// "authToken"), or with the credential of the upgrade request's header; a
// socket with neither is anonymous. An authenticated socket is registered
// with Sockets, and ends at its ID token's expiry.
func (g *socketGuard) init(ctx context.Context, payload map[string]any) (context.Context, error) {
	credential, err := initCredential(ctx, payload)
	if err != nil {
		g.limits.authFailed(ctx)
		return ctx, &Refusal{Code: closeUnauthorized, Reason: "Unauthorized", Err: err}
	}
	var c *socketCaller
	if credential != "" {
		if e := g.limits.refuseFailing(ctx); e != nil {
			return ctx, &Refusal{Code: closeTooMany, Reason: "Too many failed sign-ins", Err: e}
		}
		c = &socketCaller{credential: credential, guard: g}
		p, err := g.check(ctx, c)
		if err != nil {
			if _, refused := apperror.As(err); refused {
				g.limits.authFailed(ctx)
			}
			if r := (*Refusal)(nil); !errors.As(err, &r) {
				err = &Refusal{Code: closeUnauthorized, Reason: "Unauthorized", Err: err}
			}
			return ctx, err
		}
		c.rights = p
		ctx = auth.WithPrincipal(ctx, forSocket(p))
	}
	if err := g.limits.holdSocket(ctx); err != nil {
		return ctx, &Refusal{Code: closeTooMany, Reason: "Too many connections", Err: err}
	}
	if c == nil {
		return ctx, nil
	}
	ctx = g.sockets.track(ctx, c)
	// A revocation or change that landed after the check above found no
	// socket to close: check again now that the socket is registered. (A
	// principal read before a key or user is forgotten is not remembered,
	// so this reads what the change wrote.)
	if _, err := g.recheck(ctx, c); err != nil {
		return ctx, err
	}
	return ctx, nil
}

// start authorizes one operation: it runs with the caller's rights as they
// are now, and costs one request of their rate.
func (g *socketGuard) start(ctx context.Context) (context.Context, error) {
	if c := callerOf(ctx); c != nil {
		p, err := g.recheck(ctx, c)
		if err != nil {
			return ctx, err
		}
		ctx = auth.WithPrincipal(ctx, forSocket(p))
	}
	return ctx, g.limits.chargeOperation(ctx)
}

// check authenticates c's credential: a *Refusal (4401) when it stopped
// working or its ID token expired, another error when authenticating
// failed for reasons not the caller's.
func (g *socketGuard) check(ctx context.Context, c *socketCaller) (auth.Principal, error) {
	p, err := g.auth.Authenticate(ctx, c.credential)
	if e, ok := apperror.As(err); ok {
		return p, &Refusal{Code: closeUnauthorized, Reason: "Unauthorized: " + e.Message, Err: e}
	}
	if err != nil {
		return p, err
	}
	// The SDK accepts a token for minutes past its exp (clock skew); a
	// socket ends at the exp itself.
	if !p.Expires.IsZero() && !g.now().Before(p.Expires) {
		return p, expiredToken
	}
	return p, nil
}

// recheck authenticates c's credential again and compares the rights it
// gives now with those c's operations ran with: a *Refusal (4401) when the
// credential stopped working, (4403) when the rights went down, so that no
// live subscription goes on with rights its caller lost.
func (g *socketGuard) recheck(ctx context.Context, c *socketCaller) (auth.Principal, error) {
	p, err := g.check(ctx, c)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := g.weaker(ctx, c.rights, p); r != nil {
		return p, r
	}
	c.rights = p
	return p, nil
}

// weaker says how now's rights fall short of was's, or nil: a lower role,
// or a plan allowing fewer sockets or live subscriptions.
func (g *socketGuard) weaker(ctx context.Context, was, now auth.Principal) *Refusal {
	if !now.Role.AtLeast(was.Role) {
		return &Refusal{Code: closeForbidden, Reason: "Forbidden: your role changed; reconnect",
			Err: apperror.New(apperror.Forbidden, "your role changed since this socket was opened; reconnect to go on with your current rights")}
	}
	if now.PlanCode == was.PlanCode && now.Role == was.Role {
		return nil
	}
	before, unlimitedBefore, err := g.limits.Of(ctx, was)
	if err != nil {
		return nil
	}
	after, unlimited, err := g.limits.Of(ctx, now)
	if err != nil || unlimited {
		return nil
	}
	if unlimitedBefore || after.Subscriptions < before.Subscriptions || after.Websockets < before.Websockets {
		return &Refusal{Code: closeForbidden, Reason: "Forbidden: your plan changed; reconnect",
			Err: apperror.New(apperror.Forbidden, "your plan changed since this socket was opened; reconnect to go on with its limits")}
	}
	return nil
}

// forSocket is p as a socket's operations see it: without the user row
// read now, since a subscription's events may come hours later and read
// the user anew.
func forSocket(p auth.Principal) auth.Principal {
	p.User = nil
	return p
}

// initCredential is the credential of a connection_init payload, or else
// that of the upgrade request's Authorization header; "" for neither.
func initCredential(ctx context.Context, payload map[string]any) (string, error) {
	for _, k := range []string{"Authorization", "authorization", "authToken"} {
		if v, ok := payload[k].(string); ok && v != "" {
			secret, ok := bearer(v)
			if !ok {
				return "", errNotBearer
			}
			return secret, nil
		}
	}
	return credentialOf(ctx), nil
}

type credentialKey struct{}

// withCredential returns ctx carrying the credential its principal was
// authenticated with, for a websocket to check again.
func withCredential(ctx context.Context, secret string) context.Context {
	return context.WithValue(ctx, credentialKey{}, secret)
}

// credentialOf is the credential withCredential put on ctx.
func credentialOf(ctx context.Context) string {
	s, _ := ctx.Value(credentialKey{}).(string)
	return s
}

// errNotBearer refuses an Authorization that bearer cannot read.
var errNotBearer = apperror.New(apperror.Unauthenticated, "Authorization must be \"Bearer <key>\"")

// bearer extracts the credential of "Bearer <credential>"; a bare
// credential is accepted too, for clients that send only the key.
func bearer(header string) (string, bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found {
		return scheme, scheme != ""
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// rulesWithoutIntrospection are gqlparser's validation rules for a server
// whose schema is hidden. An operation that selects __schema or __type is
// invalid (BAD_USER_INPUT, HTTP 422, refused before it runs and logged
// nowhere), rather than failing inside execution as an internal error; and
// the rules that suggest names ("Did you mean …?") keep them to themselves.
// (SetDisableSuggestion quiets the other two: FieldsOnCorrectType and
// ScalarLeafs.)
func rulesWithoutIntrospection() *rules.Rules {
	r := rules.NewDefaultRules()
	for name, quiet := range map[string]core.Rule{
		rules.KnownArgumentNamesRule.Name:  rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRule.Name:      rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRule.Name: rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.ReplaceRule(name, quiet.RuleFunc)
	}
	r.AddRule("NoIntrospection", func(observers *core.Events, addError core.AddErrFunc) {
		observers.OnField(func(_ *core.Walker, field *ast.Field) {
			if field.Name == "__schema" || field.Name == "__type" {
				addError(core.Message("introspection is off on this server"), core.At(field.Position))
			}
		})
	})
	return r
}

// presentError decides what clients see of an error: every error gets an
// extensions.code; Koe's own errors show their message (and field or retry
// time); GraphQL parse and validation failures become BAD_USER_INPUT; anything
// else is logged with the request id and shown only as INTERNAL_SERVER_ERROR.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		presented := present(ctx, log, err)
		code, _ := presented.Extensions["code"].(string)
		metrics.GraphQLErrors.WithLabelValues(code).Inc()
		return presented
	}
}

// present is presentError without the counting.
func present(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if e, ok := apperror.As(err); ok {
		ext := map[string]any{"code": string(e.Code)}
		if e.Field != "" {
			ext["field"] = e.Field
		}
		if e.RetryAfter > 0 {
			ext["retryAfterSeconds"] = int(math.Ceil(e.RetryAfter.Seconds()))
		}
		gqlErr.Message, gqlErr.Extensions = e.MessageIn(auth.Locale(ctx)), ext
		return gqlErr
	}
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		gqlErr.Message = fmt.Sprintf("the request body is over %d bytes", tooLarge.Limit)
		gqlErr.Extensions = map[string]any{"code": string(apperror.BadUserInput)}
		return gqlErr
	}
	var own *gqlerror.Error
	if errors.As(err, &own) && own.Err == nil {
		// An error gqlgen made itself about the request: a parse or
		// validation failure is bad input; others (the complexity limit)
		// already carry their code.
		switch code, _ := own.Extensions["code"].(string); code {
		case errcode.ValidationFailed, errcode.ParseFailed:
			gqlErr.Extensions = map[string]any{"code": string(apperror.BadUserInput), "reason": code}
			if len(own.Path) > 1 && own.Path[0] == ast.PathName("variable") {
				gqlErr.Extensions["field"] = own.Path[1:].String()
			}
			return gqlErr
		case "":
			if len(own.Path) == 0 {
				// Not about any field: the request itself is bad (an
				// undecodable body, a persisted-query hash that does
				// not match its query).
				gqlErr.Extensions = map[string]any{"code": string(apperror.BadUserInput)}
				return gqlErr
			}
		default:
			return gqlErr
		}
	}
	requestID := logging.RequestID(ctx)
	if errors.Is(err, context.Canceled) {
		// The caller went away (a closed socket, an aborted request):
		// nothing is wrong here and nobody reads the answer.
		log.DebugContext(ctx, "canceled", "err", err, "path", gqlErr.Path.String())
	} else {
		log.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
	}
	return &gqlerror.Error{
		Message:    "internal server error; quote request id " + requestID + " when asking for help",
		Path:       gqlErr.Path,
		Locations:  gqlErr.Locations,
		Extensions: map[string]any{"code": string(apperror.Internal), "requestId": requestID},
	}
}
