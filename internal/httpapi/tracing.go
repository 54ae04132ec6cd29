package httpapi

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/koe-voice/koe/internal/tracing"
)

// traceHTTP starts a span for each request, continuing the caller's trace
// from its traceparent header. Websocket upgrades are left out (a socket
// lives for hours; its operations are traced one by one), and so are probes
// and scrapes.
func traceHTTP(tp trace.TracerProvider, next http.Handler) http.Handler {
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(tracing.Propagator), otelhttp.WithMeterProvider(tracing.NoMetrics),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return !websocket.IsWebSocketUpgrade(r)
		}))
}

// nameSpan names the request's span after the route that served it, once
// the mux has chosen one.
func nameSpan(r *http.Request, route string) {
	span := trace.SpanFromContext(r.Context())
	span.SetName(r.Method + " " + route)
	span.SetAttributes(attribute.String("http.route", route))
}

// traceGraphQL makes a span for each query and mutation, named like
// "mutation CreateGeneration", and a child span for each field that runs a
// resolver. Subscriptions get none: they live as long as their socket.
type traceGraphQL struct{ tracer trace.Tracer }

var (
	_ graphql.OperationInterceptor = traceGraphQL{}
	_ graphql.FieldInterceptor     = traceGraphQL{}
)

func (traceGraphQL) ExtensionName() string                   { return "Tracing" }
func (traceGraphQL) Validate(graphql.ExecutableSchema) error { return nil }

func (t traceGraphQL) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil || op.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	kind := string(op.Operation.Operation)
	name := kind
	if op.Operation.Name != "" {
		name += " " + op.Operation.Name
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithTimestamp(op.Stats.OperationStart), trace.WithAttributes(
		attribute.String("graphql.operation.type", kind), attribute.String("graphql.operation.name", op.Operation.Name)))
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, resp.Errors.Error())
		}
		span.End()
		return resp
	}
}

func (t traceGraphQL) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || !trace.SpanContextFromContext(ctx).IsValid() {
		return next(ctx)
	}
	ctx, span := t.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(attribute.String("graphql.field.path", fc.Path().String())))
	v, err := next(ctx)
	tracing.End(span, err)
	return v, err
}
