// Package tracing sets up OpenTelemetry for Koe: a tracer provider that
// exports by OTLP when an endpoint is configured (and costs nothing when not),
// spans for code that has no provider at hand, and a bun hook for SQL.
package tracing

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// scope names Koe's own instrumentation.
const scope = "github.com/koe-voice/koe"

// Propagator carries W3C trace context and baggage across HTTP and jobs.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Provider is a process's tracer provider.
type Provider struct {
	trace.TracerProvider
	shutdown func(context.Context) error
	enabled  bool
}

// Enabled reports whether spans go anywhere; instrumentation is left out
// entirely when they do not.
func (p *Provider) Enabled() bool { return p.enabled }

// Exporter says where spans go: an OTLP endpoint URL (with its path, e.g.
// http://collector:4318/v1/traces) and its protocol, "http/protobuf" or
// "grpc". An empty endpoint turns tracing off.
type Exporter struct {
	Endpoint string
	Protocol string
}

// New returns the provider for exp. Spans carry service.name "koe" (or
// OTEL_SERVICE_NAME), attrs, and the resource of OTEL_RESOURCE_ATTRIBUTES;
// sampling follows OTEL_TRACES_SAMPLER (parent-based, always on by default).
func New(ctx context.Context, exp Exporter, attrs ...attribute.KeyValue) (*Provider, error) {
	if exp.Endpoint == "" {
		return &Provider{TracerProvider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	var (
		exporter sdktrace.SpanExporter
		err      error
	)
	if exp.Protocol == "grpc" {
		exporter, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(exp.Endpoint))
	} else {
		exporter, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(exp.Endpoint))
	}
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(append([]attribute.KeyValue{attribute.String("service.name", "koe")}, attrs...)...),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID())
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown, enabled: true}, nil
}

// Shutdown sends the spans not yet exported and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error { return p.shutdown(ctx) }

// Start starts a span under ctx's span, from the provider that made that
// span, so code deep in a call chain (the speech engines) traces without a
// provider passed down. Without a span in ctx it records nothing.
func Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer(scope).Start(ctx, name, trace.WithAttributes(attrs...))
}

// End marks span failed with err, if any, and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Tracer is Koe's tracer from tp.
func Tracer(tp trace.TracerProvider) trace.Tracer { return tp.Tracer(scope) }

// NoMetrics is the meter provider given to instrumentation libraries:
// Koe's metrics are Prometheus's, at /metrics.
var NoMetrics = metricnoop.NewMeterProvider()

// Queries returns a bun hook that traces each statement made within a traced
// operation. Statements are recorded without their arguments (people's text
// stays out of traces), and statements outside any trace (periodic
// housekeeping) make no root spans of their own.
func Queries(tp trace.TracerProvider) bun.QueryHook {
	return queries{bunotel.NewQueryHook(bunotel.WithDBName("koe"), bunotel.WithFormattedQueries(false),
		bunotel.WithTracerProvider(tp), bunotel.WithMeterProvider(NoMetrics))}
}

type queries struct{ *bunotel.QueryHook }

func (q queries) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx // AfterQuery then finds no recording span and does nothing
	}
	return q.QueryHook.BeforeQuery(ctx, e)
}
