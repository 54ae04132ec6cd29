package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/koe-voice/koe/internal/logging"
)

// TestLogsCarryRequestAndTraceIDs: a line logged while serving a traced
// request names the request and the trace, so it can be found from either.
func TestLogsCarryRequestAndTraceIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, "info")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(logging.WithRequestID(context.Background(), "req-1"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	log.With("component", "test").InfoContext(ctx, "hello")
	log.Info("untraced")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var traced, plain map[string]any
	require.NoError(t, json.Unmarshal(lines[0], &traced))
	require.NoError(t, json.Unmarshal(lines[1], &plain))
	require.Equal(t, "req-1", traced["request_id"])
	require.Equal(t, tid.String(), traced["trace_id"])
	require.Equal(t, sid.String(), traced["span_id"])
	require.Equal(t, "test", traced["component"])
	require.NotContains(t, plain, "trace_id")
}
