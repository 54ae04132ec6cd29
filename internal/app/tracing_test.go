package app_test

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// collector is an OTLP/HTTP trace receiver that keeps what it is sent.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	b, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// named returns the spans called name (or starting with it, with a trailing *).
func (c *collector) named(name string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if s.Name == name || (strings.HasSuffix(name, "*") && strings.HasPrefix(s.Name, strings.TrimSuffix(name, "*"))) {
			out = append(out, s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			if v := a.Value.GetStringValue(); v != "" {
				return v
			}
			return a.Value.String()
		}
	}
	return ""
}

// TestTracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, one createGeneration
// shows up in the caller's trace as the HTTP request, the GraphQL operation,
// its resolver and its SQL (without the person's text), and the job that
// speaks it as a River work span linked to that trace, with the speech
// engine's and the encoder's spans under it.
func TestTracing(t *testing.T) {
	t.Parallel()
	col := &collector{}
	otlp := httptest.NewServer(col)
	t.Cleanup(otlp.Close)
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL})
	c := srv.Client(apptest.AdminKey)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	secret := "Tracing tells the whole story of this sentence."
	r := c.Do(`mutation Speak($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": secret}},
		"traceparent", "00-"+traceID+"-"+parentID+"-01")
	require.Empty(t, r.Errors)
	var out struct{ CreateGeneration struct{ ID string } }
	require.NoError(t, json.Unmarshal(r.Data, &out))
	events(t, follow(t, c, apptest.TransportWS, out.CreateGeneration.ID), time.Minute)
	srv.Stop(10 * time.Second) // flushes the spans not yet exported

	id := func(b []byte) string { return hex.EncodeToString(b) }
	https := col.named("POST /query")
	require.NotEmpty(t, https, "the request's span, named by its route")
	var request *tracepb.Span
	for _, s := range https {
		if id(s.TraceId) == traceID {
			request = s
		}
	}
	require.NotNil(t, request, "the caller's trace continues through traceparent")
	require.Equal(t, parentID, id(request.ParentSpanId))

	ops := col.named("mutation Speak")
	require.Len(t, ops, 1)
	require.Equal(t, traceID, id(ops[0].TraceId))
	require.Equal(t, id(request.SpanId), id(ops[0].ParentSpanId))
	fields := col.named("Mutation.createGeneration")
	require.Len(t, fields, 1)
	require.Equal(t, id(ops[0].SpanId), id(fields[0].ParentSpanId))

	var sql int
	for _, s := range col.spans {
		if id(s.TraceId) == traceID && attr(s, "db.system") == "sqlite" {
			sql++
			require.NotContains(t, attr(s, "db.statement"), "whole story", "people's text stays out of traces")
		}
	}
	require.Positive(t, sql, "the mutation's SQL statements are in its trace")

	works := col.named("river.work/generation")
	require.Len(t, works, 1, "one job ran")
	work := works[0]
	linked := false
	for _, l := range work.Links {
		linked = linked || id(l.TraceId) == traceID
	}
	require.True(t, linked, "the job's span links back to the request that queued it")
	inJob := func(name string) int {
		n := 0
		for _, s := range col.named(name) {
			if id(s.TraceId) == id(work.TraceId) {
				n++
			}
		}
		return n
	}
	require.Positive(t, inJob("tts.synthesize"), "each chunk spoken is a span in the job's trace")
	require.Equal(t, 1, inJob("tts.encode"))
}
