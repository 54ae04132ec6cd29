// Package metrics is what Koe exposes at /metrics for Prometheus: request
// and operation latency, errors by code, live connections, jobs, and the
// domain counters (characters spoken, emails sent, Stripe webhooks). The
// collectors live in one registry per process; domain packages count
// through the package-level vars.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every Koe collector and the Go runtime's.
var Registry = prometheus.NewRegistry()

// latency buckets from 1 ms to 30 s: API calls sit at the low end, jobs and
// long websocket upgrades at the high end.
var buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// The collectors.
var (
	HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "koe_http_request_duration_seconds", Help: "HTTP request latency by route, method and status code.", Buckets: buckets,
	}, []string{"route", "method", "code"})
	GraphQLDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "koe_graphql_operation_duration_seconds", Help: "GraphQL operation latency by operation name and type.", Buckets: buckets,
	}, []string{"operation", "type"})
	GraphQLErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_graphql_errors_total", Help: "GraphQL errors by extensions.code.",
	}, []string{"code"})
	Subscriptions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "koe_graphql_subscriptions", Help: "Live GraphQL subscriptions in this process.",
	})
	JobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "koe_job_duration_seconds", Help: "River job run time by kind and final state.", Buckets: buckets,
	}, []string{"kind", "state"})
	CharactersGenerated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "koe_characters_generated_total", Help: "Characters of generations that succeeded.",
	})
	GenerationsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_generations_finished_total", Help: "Generations that finished, by status.",
	}, []string{"status"})
	EmailsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_emails_total", Help: "Email send attempts by result (sent, failed, retry).",
	}, []string{"result"})
	StripeWebhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "koe_stripe_webhooks_total", Help: "Stripe webhook requests by outcome (applied, duplicate, ignored, pending, rejected, limited, error).",
	}, []string{"outcome"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		HTTPDuration, GraphQLDuration, GraphQLErrors, Subscriptions, JobDuration,
		CharactersGenerated, GenerationsFinished, EmailsSent, StripeWebhooks,
	)
}

// Gauges are values one app reads at each scrape (open websockets, queue
// depth); each app has its own, so tests may run several apps in a process.
type Gauges struct{ registry *prometheus.Registry }

// NewGauges returns an empty set.
func NewGauges() *Gauges { return &Gauges{registry: prometheus.NewRegistry()} }

// Add registers a gauge whose value is read at each scrape.
func (g *Gauges) Add(name, help string, value func() float64) {
	g.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}

// AddVec registers gauges with one label, read together at each scrape.
func (g *Gauges) AddVec(name, help, label string, values func() map[string]float64) {
	g.registry.MustRegister(&vecFunc{desc: prometheus.NewDesc(name, help, []string{label}, nil), values: values})
}

type vecFunc struct {
	desc   *prometheus.Desc
	values func() map[string]float64
}

func (v *vecFunc) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *vecFunc) Collect(ch chan<- prometheus.Metric) {
	for label, value := range v.values() {
		ch <- prometheus.MustNewConstMetric(v.desc, prometheus.GaugeValue, value, label)
	}
}

// Handler serves the process-wide collectors and the app's gauges in
// Prometheus' text format.
func Handler(g *Gauges) http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{Registry, g.registry}, promhttp.HandlerOpts{})
}
