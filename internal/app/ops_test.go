package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// metricValue is the value of the first sample of a metric line matching
// pattern (a regular expression over the name and labels).
func metricValue(t *testing.T, body, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "no sample matching %s", pattern)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// TestMetricsAndProfiling: /metrics shows what an operator watches after real
// traffic, on its own listener; pprof answers on its own loopback listener
// only.
func TestMetricsAndProfiling(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_DEBUG_ADDR": "127.0.0.1:0", "KOE_METRICS_ADDR": "127.0.0.1:0"})
	c := srv.Client(apptest.AdminKey)
	sub := c.Subscribe(apptest.TransportWS, `subscription { myGenerationUpdates { status } }`, nil)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Count me."})
	events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	c.Do(`query Generation { generation(id: "nope") { id } }`, nil)
	_ = sub

	require.Eventually(t, func() bool {
		_, body := get(t, srv.MetricsURL+"/metrics")
		// River's completer records the final state in batches, a moment
		// after the client has heard the generation finish.
		return regexp.MustCompile(`koe_job_duration_seconds_count\{kind="generation",state="completed"\}`).MatchString(body) &&
			regexp.MustCompile(`(?m)^koe_jobs\{state="completed"\} [1-9]`).MatchString(body)
	}, 30*time.Second, 100*time.Millisecond)
	code, body := get(t, srv.MetricsURL+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Positive(t, metricValue(t, body, `koe_characters_generated_total`))
	require.Positive(t, metricValue(t, body, `koe_generations_finished_total\{status="SUCCEEDED"\}`))
	require.Positive(t, metricValue(t, body, `koe_http_request_duration_seconds_count\{code="200",method="POST",route="/query"\}`))
	require.Positive(t, metricValue(t, body, `koe_graphql_operation_duration_seconds_count\{operation="Generation",type="query"\}`))
	require.Positive(t, metricValue(t, body, `koe_graphql_errors_total\{code="BAD_USER_INPUT"\}`))
	require.GreaterOrEqual(t, metricValue(t, body, `koe_websockets_open`), 1.0)
	require.GreaterOrEqual(t, metricValue(t, body, `koe_graphql_subscriptions`), 1.0)
	require.GreaterOrEqual(t, metricValue(t, body, `koe_jobs\{state="completed"\}`), 1.0)

	code, body = get(t, srv.DebugURL+"/debug/pprof/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")
	code, _ = get(t, srv.URL+"/debug/pprof/")
	require.Equal(t, http.StatusNotFound, code, "no profiles on the public listener")
}
