package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// logSink keeps a server's JSON log lines for a test to read back.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// at returns the lines logged at level (ERROR, WARN…).
func (l *logSink) at(level string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		var entry struct{ Level string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level == level {
			out = append(out, line)
		}
	}
	return out
}

// bootLogged starts Koe as apptest.Boot does, on a fresh database of kind,
// with its log (at info and above) kept for the test to read.
func bootLogged(t *testing.T, kind storetest.Kind, env map[string]string, opts ...app.Option) (*app.App, *logSink) {
	t.Helper()
	databaseURL, dataDir := storetest.URL(t, kind)
	e := map[string]string{
		"KOE_ADDR": "127.0.0.1:0", "KOE_DATA_DIR": dataDir, "DATABASE_URL": databaseURL,
		"KOE_ADMIN_API_KEY": apptest.AdminKey, "KOE_LOG_LEVEL": "info",
	}
	maps.Copy(e, apptest.Helpers(t))
	for k, v := range env {
		e[k] = v
	}
	cfg, err := config.Load(func(k string) string { return e[k] })
	require.NoError(t, err)
	sink := &logSink{}
	a, err := app.New(context.Background(), cfg, logging.New(sink, cfg.LogLevel), opts...)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		if t.Failed() {
			t.Log(sink.b.String())
		}
	})
	return a, sink
}

// client is an apptest client of a server booted by bootLogged.
func client(t *testing.T, a *app.App, key string) *apptest.Client {
	c := &apptest.Client{URL: a.URL, Key: key}
	c.Bind(t)
	return c
}

// TestAliasedMutationsRunOnce: one HTTP request with 245 aliased
// createApiKey made 245 keys while counting as one request; now a mutation
// that selects a field twice — by aliases, fragments or both — is refused
// before anything runs, naming the field, and makes no key.
func TestAliasedMutationsRunOnce(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	userID, key := srv.NewUser(auth.RoleUser, "aliases@example.com")
	c := srv.Client(key)
	keys := func() int { return count(t, srv, "SELECT count(*) FROM api_keys WHERE user_id = ?", userID) }
	before := keys()

	var aliased strings.Builder
	aliased.WriteString("mutation {")
	for i := range 245 {
		fmt.Fprintf(&aliased, " k%d: createApiKey(name: \"k%d\") { secret }", i, i)
	}
	aliased.WriteString(" }")
	for name, doc := range map[string]string{
		"245 aliases": aliased.String(),
		"two aliases": `mutation { a: createApiKey(name: "a") { secret } b: createApiKey(name: "b") { secret } }`,
		"a fragment spread twice": `mutation { ...K ...K }
			fragment K on Mutation { createApiKey(name: "f") { secret } }`,
		"an inline fragment and a field": `mutation { createApiKey(name: "a") { secret } ... on Mutation { again: createApiKey(name: "b") { secret } } }`,
	} {
		r := c.Do(doc, nil)
		require.Len(t, r.Errors, 1, "%s: %+v", name, r.Errors)
		require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), name)
		require.Equal(t, "createApiKey", r.Errors[0].Field(), "%s: the refusal names the field", name)
		require.Contains(t, []string{"", "null"}, string(r.Data), "%s: nothing ran", name)
		require.Equal(t, before, keys(), "%s: no key was made", name)
	}

	// Different mutations in one document, each once, still run.
	var out struct {
		CreateApiKey          struct{ Secret string }
		MarkNotificationsRead int
	}
	c.Must(`mutation { createApiKey(name: "one") { secret } markNotificationsRead }`, nil, &out)
	require.NotEmpty(t, out.CreateApiKey.Secret)
	require.Equal(t, before+1, keys())
}

// TestErrorPathHygiene, in production on each database: an introspection
// query answers 422 BAD_USER_INPUT (it was INTERNAL plus an ERROR line);
// unknown names get no "Did you mean"; a NUL in any string argument or
// variable is BAD_USER_INPUT naming it (it was INTERNAL plus an ERROR line
// from the database driver); and nothing of it is logged at ERROR.
func TestErrorPathHygiene(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			a, logs := bootLogged(t, kind, map[string]string{"KOE_ENV": "production"})
			admin := client(t, a, apptest.AdminKey)
			anonymous := client(t, a, "")

			for _, q := range []string{
				`{ __schema { types { name } } }`,
				`{ __type(name: "Query") { fields { name } } }`,
				`query { ...F } fragment F on Query { __schema { queryType { name } } }`,
			} {
				r := anonymous.Do(q, nil)
				require.Equal(t, http.StatusUnprocessableEntity, r.Status, q)
				require.NotEmpty(t, r.Errors, q)
				for _, e := range r.Errors {
					require.Equal(t, "BAD_USER_INPUT", e.Code(), q)
					require.Contains(t, e.Message, "introspection is off")
				}
				require.Contains(t, []string{"", "null"}, string(r.Data), "no schema is revealed")
			}
			r := anonymous.Do(`{ __typename }`, nil)
			require.Empty(t, r.Errors, "__typename is not introspection")

			for _, q := range []string{
				`{ userz { id } }`,
				`{ voices(filtr: {language: "en"}) { totalCount } }`,
				`query($f: VoiceFiltr) { voices(filter: $f) { totalCount } }`,
				`{ generations(status: SUCCEDED) { totalCount } }`,
				`{ me { emial } }`,
			} {
				r := admin.Do(q, nil)
				require.NotEmpty(t, r.Errors, q)
				for _, e := range r.Errors {
					require.NotContains(t, e.Message, "Did you mean", "%s: no names suggested: %s", q, e.Message)
				}
			}

			const nul = "a\x00b"
			for _, tt := range []struct {
				name, query string
				vars        map[string]any
				field       string
			}{
				{"an argument written in the document", `mutation { createApiKey(name: "a\u0000b") { secret } }`, nil, "name"},
				{"a variable", `mutation($n: String!) { createApiKey(name: $n) { secret } }`, map[string]any{"n": nul}, "n"},
				{"a search", `query($s: String) { users(search: $s) { totalCount } }`, map[string]any{"s": "x\x00y"}, "s"},
				{"an idempotency key", createGeneration, map[string]any{"input": map[string]any{
					"voiceId": "espeak-ng:en-us", "text": "Hello.", "idempotencyKey": nul}}, "input.idempotencyKey"},
				{"the text", createGeneration, map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": "Hello\x00 there."}}, "input.text"},
				{"an input object written in the document", `mutation { createGeneration(input: {voiceId: "espeak-ng:en-us", text: "Hi", idempotencyKey: "k\u0000"}) { id } }`, nil, "input.idempotencyKey"},
				{"a list", `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, map[string]any{"ids": []any{"ntf_1", nul}}, "ids[1]"},
			} {
				r := admin.Do(tt.query, tt.vars)
				require.Len(t, r.Errors, 1, "%s: %+v", tt.name, r.Errors)
				require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), tt.name)
				require.Equal(t, tt.field, r.Errors[0].Field(), "%s: names where the NUL is", tt.name)
				require.Contains(t, r.Errors[0].Message, "NUL")
			}
			var n int
			require.NoError(t, a.DB().NewSelect().Table("generations").ColumnExpr("count(*)").Scan(context.Background(), &n))
			require.Zero(t, n, "nothing was made")

			require.Empty(t, logs.at("ERROR"), "refused input is not a server error")
		})
	}
}

// TestMetricsAreNotPublic: /metrics is not on the public listener unless
// KOE_METRICS_TOKEN is set, and then only for that bearer token; anonymous
// callers' operation names cannot take the label slots; the job counts are
// read from the database at most once per five seconds, however often
// /metrics is scraped.
func TestMetricsAreNotPublic(t *testing.T) {
	t.Parallel()
	plain := apptest.Boot(t, storetest.SQLite, nil)
	code, _ := get(t, plain.URL+"/metrics")
	require.Equal(t, http.StatusNotFound, code, "no metrics on the public listener by default")

	const token = "mT5vQ9zR2wX7kB4nL8pC1sF6hJ3dG0yE"
	jobCounts := &statementMatcher{pattern: "FROM \"river_job\" GROUP BY"}
	// The anonymous rate would stop the squatting at 60 a minute; sockets
	// did not, and a botnet would not.
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_METRICS_TOKEN": token, "KOE_ANONYMOUS_RPM": "100000"}, app.WithQueryHook(jobCounts))
	scrape := func(credential string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if credential != "" {
			req.Header.Set("Authorization", "Bearer "+credential)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, wrong := range []string{"", "nope", token + "x", apptest.AdminKey} {
		code, body := scrape(wrong)
		require.Equal(t, http.StatusUnauthorized, code, "%q", wrong)
		require.NotContains(t, body, "koe_")
	}

	// Anonymous names, as many as the old label slots, then the web app's
	// own operation.
	anonymous := srv.Client("")
	for i := range 210 {
		r := anonymous.Do(fmt.Sprintf(`query Squat%03d { plans { code } }`, i), nil)
		require.Empty(t, r.Errors)
	}
	var voices struct{ Voices struct{ TotalCount int } }
	srv.Client(apptest.AdminKey).Must(`query Voices { voices { totalCount } }`, nil, &voices)
	// A job to count, whether or not River's periodic jobs are in yet.
	create(t, srv.Client(apptest.AdminKey), map[string]any{"voiceId": "espeak-ng:en-us", "text": "Count me."})
	code, body := scrape(token)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "Squat", "names nobody knows are not labels")
	require.Positive(t, metricValue(t, body, `koe_graphql_operation_duration_seconds_count\{operation="other",type="query"\}`))
	require.Positive(t, metricValue(t, body, `koe_graphql_operation_duration_seconds_count\{operation="Voices",type="query"\}`))

	jobCounts.reset()
	start := time.Now()
	for range 50 {
		code, body := scrape(token)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "koe_jobs{")
	}
	took := time.Since(start)
	require.LessOrEqual(t, jobCounts.count(), 1+int(took/(5*time.Second)),
		"50 scrapes in %s: the job counts are read once per 5 s at most", took)
}

// statementMatcher counts the statements whose text contains pattern.
type statementMatcher struct {
	pattern string
	mu      sync.Mutex
	n       int
}

func (m *statementMatcher) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.Contains(e.Query, m.pattern) {
		m.mu.Lock()
		m.n++
		m.mu.Unlock()
	}
	return ctx
}

func (m *statementMatcher) AfterQuery(context.Context, *bun.QueryEvent) {}

func (m *statementMatcher) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

func (m *statementMatcher) reset() {
	m.mu.Lock()
	m.n = 0
	m.mu.Unlock()
}

// TestStripeWebhookRefusalsAreLimited: unsigned webhook calls each logged a
// WARN line, without limit; now a client address has ten refused a minute,
// then 429 with Retry-After and nothing more in the log than one line saying
// so. Another address is heard as before.
func TestStripeWebhookRefusalsAreLimited(t *testing.T) {
	t.Parallel()
	a, logs := bootLogged(t, storetest.SQLite, apptest.StripeMock(t))
	post := func(from string, body []byte, signature string) *http.Response {
		c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}}
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signature != "" {
			req.Header.Set("Stripe-Signature", signature)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	event := apptest.StripeEvent("evt_hygiene", "customer.created", time.Now(), map[string]any{"id": "cus_x", "object": "customer"})
	var codes []int
	for i := range 25 {
		signature := ""
		if i%2 == 1 {
			signature = "t=1,v1=deadbeef"
		}
		resp := post("127.0.0.1", event, signature)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			require.NotEmpty(t, resp.Header.Get("Retry-After"))
		}
	}
	require.Equal(t, append(repeat(http.StatusBadRequest, 10), repeat(http.StatusTooManyRequests, 15)...), codes)
	warnings := logs.at("WARN")
	require.Len(t, warnings, 11, "ten refusals and one line saying the rest are refused unread: %q", warnings)
	require.Contains(t, warnings[10], "refusing this address's calls")

	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: apptest.StripeWebhookSecret}).Header
	require.Equal(t, http.StatusOK, post("127.0.0.2", event, signed).StatusCode, "another address is heard")
}

func repeat(code, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = code
	}
	return out
}

// killedMidGeneration starts the single-process default (SQLite) on a new
// data directory, has it speak a long text, and kills it -9 while the
// generation runs. restart starts Koe again on that directory and answers
// an admin's client of it.
func killedMidGeneration(t *testing.T) (g gen, dataDir string, restart func() *apptest.Client) {
	t.Helper()
	bin := buildKoe(t)
	dataDir = t.TempDir()
	env := map[string]string{
		"KOE_DATA_DIR": dataDir, "KOE_ADDR": "127.0.0.1:0", "KOE_ADMIN_API_KEY": apptest.AdminKey,
		"KOE_LOG_LEVEL": "info", "KOE_SYNTH_CONCURRENCY": "1",
	}
	first := start(t, bin, env)
	c := &apptest.Client{URL: first.url, Key: apptest.AdminKey}
	c.Bind(t)
	g = create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(20000), "format": "WAV"})
	waitRunning(t, follow(t, c, apptest.TransportWS, g.ID))
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = first.cmd.Process.Wait()
	return g, dataDir, func() *apptest.Client {
		second := start(t, bin, env)
		c := &apptest.Client{URL: second.url, Key: apptest.AdminKey}
		c.Bind(t)
		return c
	}
}

// TestCrashedGenerationRunsAgainAtStart: after kill -9 of the single-process
// default (SQLite) mid-generation and a restart on the same data directory,
// the generation finishes within a minute (it waited KOE_JOB_TIMEOUT × 1.1,
// 16.5 minutes by default, for River's rescuer).
func TestCrashedGenerationRunsAgainAtStart(t *testing.T) {
	t.Parallel()
	g, _, restart := killedMidGeneration(t)
	c := restart()
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last := evs[len(evs)-1]
	require.Equal(t, "SUCCEEDED", last.Status, "%+v", last.Generation.Error)

	var u struct{ Usage usageNumbers }
	c.Must(usageQuery, nil, &u)
	require.Equal(t, g.Characters, u.Usage.UsedCharacters, "settled once")
	require.Zero(t, u.Usage.ReservedCharacters)
}

// TestGenerationThatKillsEveryRunFails: a generation whose process died
// during its last attempt (a text that crashes the server every time, say)
// is failed at the next start, and its characters are no longer reserved;
// it stayed RUNNING for good, holding them, when River's rescuer discarded
// its job unseen.
func TestGenerationThatKillsEveryRunFails(t *testing.T) {
	t.Parallel()
	g, dataDir, restart := killedMidGeneration(t)

	// As if the four runs before this one had ended the same way.
	db, err := store.Open(t.Context(), "", dataDir)
	require.NoError(t, err)
	res, err := db.NewUpdate().Table("river_job").Set("attempt = 5").Where("state = 'running' AND kind = 'generation'").Exec(t.Context())
	require.NoError(t, err)
	n, _ := res.RowsAffected()
	require.EqualValues(t, 1, n)
	require.NoError(t, db.Close())

	c := restart()
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last := evs[len(evs)-1]
	require.Equal(t, "FAILED", last.Status)
	require.Equal(t, "INTERNAL", last.Generation.Error.Code)

	var u struct{ Usage usageNumbers }
	c.Must(usageQuery, nil, &u)
	require.Zero(t, u.Usage.ReservedCharacters, "nothing stays reserved")
	require.Zero(t, u.Usage.UsedCharacters, "nothing is charged")
}

// TestHousekeeping: a switched-off voice has no preview (its preview was
// served to anyone); GraphQL answers are never stored by caches.
func TestHousekeeping(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	admin := srv.Client(apptest.AdminKey)
	var v struct{ Voice struct{ PreviewURL string } }
	admin.Must(`{ voice(id: "espeak-ng:fr") { previewUrl } }`, nil, &v)
	code, _ := get(t, v.Voice.PreviewURL)
	require.Equal(t, http.StatusOK, code)
	admin.Must(`mutation { setVoiceEnabled(id: "espeak-ng:fr", enabled: false) { enabled } }`, nil, nil)
	code, _ = get(t, v.Voice.PreviewURL)
	require.Equal(t, http.StatusNotFound, code, "a voice switched off has no preview")
	resp, err := http.Get(srv.URL + "/voices/espeak-ng:de/preview")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "voices that are on keep theirs")

	r := admin.Do(`{ plans { code } }`, nil)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	resp, err = http.Get(srv.URL + "/query?query=%7B%20plans%20%7B%20code%20%7D%20%7D")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "GET queries too")
	r = srv.Client("not-a-key").Do(`{ me { id } }`, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"), "and refusals")
}

// TestOneKoePerSQLiteDataDir: a second Koe on the data directory of a
// running one is refused at start, saying why (two would share the SQLite
// file, and each would take the other's running jobs for orphans).
func TestOneKoePerSQLiteDataDir(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	cfg, err := config.Load(func(k string) string { return srv.Env[k] })
	require.NoError(t, err)
	_, err = app.New(context.Background(), cfg, logging.New(io.Discard, "error"))
	require.ErrorContains(t, err, "another Koe is using this data directory")
	require.ErrorContains(t, err, filepath.Clean(srv.Env["KOE_DATA_DIR"]))
}
