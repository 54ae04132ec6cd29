package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/logging"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// rows counts what bad input must not change: generations and River jobs.
func rows(t *testing.T, srv *apptest.Server) (generations, jobs int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, srv.DB().NewRaw("SELECT count(*) FROM generations").Scan(ctx, &generations))
	// Only generation jobs: periodic housekeeping queues its own meanwhile.
	require.NoError(t, srv.DB().NewRaw("SELECT count(*) FROM river_job WHERE kind = 'generation'").Scan(ctx, &jobs))
	return generations, jobs
}

// TestBadInput: each bad input is answered with BAD_USER_INPUT naming the
// field, and nothing is stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{
		"KOE_MAX_TEXT_CHARS": "1000",
		"KOE_OPUSENC_PATH":   "/nonexistent/opusenc", // this server cannot make Ogg Opus
	})
	c := srv.Client(apptest.AdminKey)
	c.Must(`mutation { setVoiceEnabled(id: "espeak-ng:de", enabled: false) { enabled } }`, nil, nil)
	ok := map[string]any{"voiceId": "espeak-ng:en-us", "text": "Hello."}
	with := func(k string, v any) map[string]any {
		in := map[string]any{}
		for key, val := range ok {
			in[key] = val
		}
		in[k] = v
		return map[string]any{"input": in}
	}
	long := strings.Repeat("a", 255)
	tests := []struct {
		name    string
		query   string
		vars    map[string]any
		field   string
		message string
	}{
		{"empty text", createGeneration, with("text", ""), "input.text", "empty"},
		{"whitespace text", createGeneration, with("text", " \n\t\u3000 "), "input.text", "empty"},
		{"text over the limit", createGeneration, with("text", strings.Repeat("x", 1001)), "input.text", "1001"},
		{"unknown voice", createGeneration, with("voiceId", "espeak-ng:klingon-nope"), "input.voiceId", "no voice"},
		{"malformed voice id", createGeneration, with("voiceId", "%%%"), "input.voiceId", "no voice"},
		{"disabled voice", createGeneration, with("voiceId", "espeak-ng:de"), "input.voiceId", "disabled"},
		{"speed too slow", createGeneration, with("speed", 0.49), "input.speed", "0.5"},
		{"speed too fast", createGeneration, with("speed", 2.01), "input.speed", "2.0"},
		{"pitch too low", createGeneration, with("pitch", -12.5), "input.pitch", "-12"},
		{"pitch too high", createGeneration, with("pitch", 13), "input.pitch", "12"},
		{"format without its encoder", createGeneration, with("format", "OGG_OPUS"), "input.format", "OGG_OPUS is not available"},
		{"unknown format", createGeneration, with("format", "FLAC"), "input.format", "FLAC"},
		{"idempotency key too long", createGeneration, with("idempotencyKey", long+"x"), "input.idempotencyKey", "255"},
		{"empty idempotency key", createGeneration, with("idempotencyKey", ""), "input.idempotencyKey", "255"},
		{"malformed generation id", `query { generation(id: "gen_nope") { id } }`, nil, "id", "generation id"},
		{"malformed id to cancel", `mutation { cancelGeneration(id: "42") { id } }`, nil, "id", "generation id"},
		{"malformed id to delete", `mutation { deleteGeneration(id: "usr_x") }`, nil, "id", "generation id"},
		{"malformed generations cursor", `query { generations(after: "not-a-cursor") { totalCount } }`, nil, "after", "cursor"},
		{"generations cursor of another connection", `query { generations(after: "WyJ4Il0") { totalCount } }`, nil, "after", "cursor"},
		{"malformed voices cursor", `query { voices(after: "!!") { totalCount } }`, nil, "after", "cursor"},
		{"generations first over 100", `query { generations(first: 101) { totalCount } }`, nil, "first", "100"},
		{"voices first over 100", `query { voices(first: 500) { totalCount } }`, nil, "first", "100"},
		{"negative first", `query { voices(first: -1) { totalCount } }`, nil, "first", "100"},
		{"bad language filter", `query { voices(filter: {language: "en US"}) { totalCount } }`, nil, "filter.language", "BCP 47"},
		{"empty API key name", `mutation { createApiKey(name: "  ") { secret } }`, nil, "name", "1 to 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gensBefore, jobsBefore := rows(t, srv)
			r := c.Do(tc.query, tc.vars)
			require.Len(t, r.Errors, 1, "%s", r.Data)
			e := r.Errors[0]
			require.Equal(t, "BAD_USER_INPUT", e.Code(), "%+v", e)
			require.Equal(t, tc.field, e.Field(), "%+v", e)
			require.Contains(t, e.Message, tc.message)
			gensAfter, jobsAfter := rows(t, srv)
			require.Equal(t, gensBefore, gensAfter, "no generation stored")
			require.Equal(t, jobsBefore, jobsAfter, "no job queued")
		})
	}

	// The web app sends its language as Accept-Language; the message next to
	// the field is then in it, the code and field unchanged.
	for _, tc := range []struct {
		acceptLanguage, message string
	}{
		{"ja", "1001 文字あります。上限は 1000 文字です"},
		{"ja-JP,ja;q=0.9,en;q=0.8", "1001 文字あります。上限は 1000 文字です"},
		{"en-US,ja;q=0.5", "is 1001 characters long; the limit is 1000"},
	} {
		r := c.Do(createGeneration, with("text", strings.Repeat("x", 1001)), "Accept-Language", tc.acceptLanguage)
		require.Len(t, r.Errors, 1, "%s", r.Data)
		require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code())
		require.Equal(t, "input.text", r.Errors[0].Field())
		require.Equal(t, tc.message, r.Errors[0].Message, "Accept-Language: %s", tc.acceptLanguage)
	}
}

// TestTextIsSpokenNotExecuted: control characters, emoji, mixed scripts and
// SSML-looking markup are read out as text.
func TestTextIsSpokenNotExecuted(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	speak := func(text string) int {
		g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text})
		evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
		last := evs[len(evs)-1]
		require.Equal(t, "SUCCEEDED", last.Status, "%q: %+v", text, last.Generation.Error)
		return last.Generation.Audio.DurationMs
	}
	for _, text := range []string{
		"Bell\x07 and escape\x1b[31m characters.", // NUL is refused: TestNULIsRefused
		"Emoji 😀👍🏽 and flags 🇯🇵 in a sentence.",
		"English, 日本語、中文，العربية and русский together.",
		"$(rm -rf /) `reboot` ; DROP TABLE generations; --",
	} {
		require.Positive(t, speak(text), "%q", text)
	}
	// An obeyed <break time="10s"/> would add ten seconds of silence; read
	// out, the tag adds a couple of seconds of words.
	plain := speak("<speak>Hello</speak>")
	markup := speak(`<speak>Hello<break time="10s"/></speak>`)
	require.Less(t, markup-plain, 8000, "markup is read, not obeyed")
}

// TestIdempotencyKey: the same key from the same user returns the first
// generation; another user's identical key is their own.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	admin := srv.Client(apptest.AdminKey)
	var made struct{ CreateApiKey struct{ Secret string } }
	admin.Must(`mutation { createApiKey(name: "second key") { secret } }`, nil, &made)
	sameUser := srv.Client(made.CreateApiKey.Secret)

	input := map[string]any{"voiceId": "espeak-ng:en-us", "text": "Once only.", "idempotencyKey": "order-42"}
	first := create(t, admin, input)
	again := create(t, sameUser, input) // another key of the same user
	require.Equal(t, first.ID, again.ID)
	gens, _ := rows(t, srv)
	require.Equal(t, 1, gens)
	other := create(t, admin, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Once only.", "idempotencyKey": "order-43"})
	require.NotEqual(t, first.ID, other.ID)
}

// statementCounter counts the SQL statements run for one request id.
type statementCounter struct {
	requestID atomic.Value // string; queries of jobs run meanwhile read it
	n         atomic.Int64
}

func (c *statementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if id, _ := c.requestID.Load().(string); id != "" && logging.RequestID(ctx) == id {
		c.n.Add(1)
	}
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestDataloaderStatementCount: fifty generations with their voice and owner
// (and the owner's plan) cost the same few statements as five.
func TestDataloaderStatementCount(t *testing.T) {
	t.Parallel()
	counter := &statementCounter{}
	srv := apptest.Boot(t, storetest.SQLite, nil, app.WithQueryHook(counter))
	c := srv.Client(apptest.AdminKey)
	voices := []string{"espeak-ng:en-us", "espeak-ng:fr", "espeak-ng:ja", "espeak-ng:de", "espeak-ng:es"}
	for i := range 50 {
		create(t, c, map[string]any{"voiceId": voices[i%len(voices)], "text": "Hi."})
	}
	// The fewest of four tries: the remembered principal (1 s) and the
	// plan cache (30 s) may each need a refill during a try, which a
	// loaded machine makes likelier; a try with both warm is what counts.
	count := func(first int, total bool) int64 {
		fields := "edges { node { id voice { id name } owner { id role plan { code } } } }"
		if total {
			fields = "totalCount " + fields
		}
		fewest := int64(-1)
		for try := range 4 {
			counter.n.Store(0)
			requestID := fmt.Sprintf("count-%d-%t-%d", first, total, try)
			counter.requestID.Store(requestID)
			var out struct{ Generations struct{ TotalCount int } }
			r := c.Do(`query($first: Int) { generations(first: $first) { `+fields+` } }`, map[string]any{"first": first}, "X-Request-Id", requestID)
			require.Empty(t, r.Errors)
			require.NoError(t, json.Unmarshal(r.Data, &out))
			if total {
				require.Equal(t, 50, out.Generations.TotalCount, "first: %d", first)
			}
			if n := counter.n.Load(); fewest < 0 || n < fewest {
				fewest = n
			}
		}
		return fewest
	}
	five, twenty := count(5, true), count(20, true)
	t.Logf("statements: %d for 5 generations, %d for 20", five, twenty)
	require.Equal(t, five, twenty, "the statement count does not grow with the page")
	// The key lookup, page, count, plans. The owner is the caller, whose
	// user the key lookup read; voices come from the catalog's copy in
	// memory.
	require.LessOrEqual(t, twenty, int64(4))
	require.Equal(t, five-1, count(5, false), "no count when the client does not ask for totalCount")
	require.Equal(t, five-1, count(100, true), "a first page that holds every generation is its own count")
}

// TestPagesNeedNoGoroutinePerItem: a page of voices, whose fields are all
// plain values, is written on the request's goroutine; a page of
// generations, whose owners may wait on a loader together, on goroutines
// kept from earlier pages (graph/generate). A new goroutine per item and per
// field, as gqlgen starts them, costs its start, its stack's growth and help
// to the GC. Not parallel, so other tests' goroutines do not count.
func TestPagesNeedNoGoroutinePerItem(t *testing.T) {
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	for i := range 20 {
		create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": fmt.Sprintf("Number %d.", i)})
	}
	// Once the worker is done with them, nothing else starts goroutines.
	require.Eventually(t, func() bool {
		var out struct{ Generations struct{ TotalCount int } }
		c.Must(`{ generations(status: SUCCEEDED) { totalCount } }`, nil, &out)
		return out.Generations.TotalCount == 20
	}, time.Minute, 50*time.Millisecond)
	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	for _, tt := range []struct {
		name, query string
		items       int
	}{
		{"voices", `{ voices(first: 50) { edges { node { id name language gender tags previewUrl enabled } } } }`, 50},
		{"generations", `{ generations(first: 20) { edges { node { id status voice { name } owner { id role } audio { url } error { code } } } } }`, 20},
	} {
		fewest := uint64(math.MaxUint64)
		for range 3 {
			before := created()
			var out map[string]struct {
				Edges []struct{ Node map[string]any }
			}
			c.Must(tt.query, nil, &out)
			require.Len(t, out[tt.name].Edges, tt.items, tt.name)
			fewest = min(fewest, created()-before)
		}
		t.Logf("goroutines started by a page of %d %s: %d", tt.items, tt.name, fewest)
		require.Less(t, fewest, uint64(10), "%d %s do not take %d goroutines", tt.items, tt.name, tt.items)
	}
}
