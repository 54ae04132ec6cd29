package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// burst sends n createApiKey mutations at once, spread over the servers, and
// counts the answers: each made a key, was refused for the cap on active
// keys (CONFLICT: it got past the rate limit), or was RATE_LIMITED with a
// retry time and headers, nothing else. ok counts those past the rate
// limit, made the keys made.
func burst(t *testing.T, key string, n int, servers ...*apptest.Server) (ok, made, limited int64, took time.Duration) {
	t.Helper()
	start := time.Now()
	var madeN, cappedN, limitedN atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			srv := servers[i%len(servers)]
			r := srv.Client(key).Do(`mutation($n: String!) { createApiKey(name: $n) { apiKey { id } } }`, map[string]any{"n": fmt.Sprint("burst ", i)})
			switch {
			case len(r.Errors) == 0:
				madeN.Add(1)
			case r.Errors[0].Code() == "CONFLICT":
				cappedN.Add(1)
			case r.Errors[0].Code() == "RATE_LIMITED":
				limitedN.Add(1)
				require.Equal(t, http.StatusTooManyRequests, r.Status)
				retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
				require.NoError(t, err)
				require.Positive(t, retry)
				require.EqualValues(t, retry, r.Errors[0].Extensions["retryAfterSeconds"])
				require.Equal(t, "60", r.Header.Get("RateLimit-Limit"))
				require.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))
			default:
				t.Errorf("unexpected answer: %+v", r.Errors)
			}
		})
	}
	wg.Wait()
	return madeN.Load() + cappedN.Load(), madeN.Load(), limitedN.Load(), time.Since(start)
}

// requireOneMinuteBucket checks ok requests got through a bucket of 60 a
// minute during a burst that took took: the capacity, plus one for each
// second the burst lasted (a slow machine sees a few more, never fewer).
func requireOneMinuteBucket(t *testing.T, ok int64, took time.Duration) {
	t.Helper()
	require.GreaterOrEqual(t, ok, int64(57), "the bucket's capacity")
	require.LessOrEqual(t, ok, 63+int64(took.Seconds()), "the bucket refills at one a second")
}

// keyCount is how many API keys the user has: what the burst really made.
func keyCount(t *testing.T, srv *apptest.Server, userID string) int {
	var n int
	require.NoError(t, srv.DB().NewRaw("SELECT count(*) FROM api_keys WHERE user_id = ?", userID).Scan(context.Background(), &n))
	return n
}

// TestRateLimitBurst: ten times the free plan's 60 requests a minute at once
// → about 60 succeed, the rest are RATE_LIMITED, and exactly the successful
// ones took effect.
func TestRateLimitBurst(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	userID, key := srv.NewUser(auth.RoleUser, "eager@example.com")
	ok, made, limited, took := burst(t, key, 600, srv)
	requireOneMinuteBucket(t, ok, took)
	require.Equal(t, int64(600), ok+limited)
	require.EqualValues(t, made+1, keyCount(t, srv, userID), "the refused requests changed nothing")
	r := srv.Client(key).Do(`{ plans { code } }`, nil)
	require.Equal(t, "60", r.Header.Get("RateLimit-Limit"), "every answer says where the caller stands")

	// Operators are not limited.
	ok, _, _, _ = burst(t, apptest.AdminKey, 200, srv)
	require.EqualValues(t, 200, ok)
}

// TestRateLimitSharedThroughRedis: with KOE_REDIS_URL two replicas share one
// bucket per person.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("KOE_TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Redis is required under CI: run the tests with `make test`")
		}
		t.Skip("KOE_TEST_REDIS_URL is not set; `make test` provides one")
	}
	a := apptest.Boot(t, storetest.Postgres, map[string]string{"KOE_REDIS_URL": redisURL})
	b := a.Another(nil)
	userID, key := a.NewUser(auth.RoleUser, fmt.Sprintf("shared-%d@example.com", time.Now().UnixNano()))
	ok, made, limited, took := burst(t, key, 400, a, b)
	requireOneMinuteBucket(t, ok, took) // one bucket for both replicas, not 60 each
	require.Equal(t, int64(400), ok+limited)
	require.EqualValues(t, made+1, keyCount(t, a, userID))
}

// TestSocketAndSubscriptionLimits: the free plan's fifth socket is the last;
// the sixth is closed with 4429, and a closed one frees its place.
func TestSocketAndSubscriptionLimits(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, key := srv.NewUser(auth.RoleUser, "sockets@example.com")
	c := srv.Client(key)
	const query = `subscription { myGenerationUpdates { status } }`
	var subs []*apptest.Subscription
	for range 5 {
		subs = append(subs, c.Subscribe(apptest.TransportWS, query, nil))
	}
	require.Equal(t, 4429, refusedSocket(t, srv, key))

	_ = subs[0].Conn.Close()
	// The server sees the close when it next reads the socket; until then
	// the place is taken and a new socket is refused.
	require.Eventually(t, func() bool {
		return initSocket(t, srv, key) == 0
	}, 10*time.Second, 50*time.Millisecond, "a closed socket frees its place")
}

// TestSubscriptionLimit: on one socket, the free plan's 21st live
// subscription is refused with RATE_LIMITED; ending one makes room.
func TestSubscriptionLimit(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, key := srv.NewUser(auth.RoleUser, "subs@example.com")
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/query", http.Header{"Sec-Websocket-Protocol": {apptest.TransportWS}})
	require.NoError(t, err)
	defer conn.Close()
	send := func(m map[string]any) { require.NoError(t, conn.WriteJSON(m)) }
	read := func() map[string]any {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		require.NoError(t, conn.ReadJSON(&m))
		return m
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + key}})
	require.Equal(t, "connection_ack", read()["type"])
	subscribe := func(id string) {
		send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": `subscription { myGenerationUpdates { status } }`}})
	}
	for i := range 21 {
		subscribe(fmt.Sprint(i))
	}
	// Subscriptions start concurrently: one of the 21, whichever came
	// last, is refused.
	refused := ""
	for refused == "" {
		m := read()
		if strings.Contains(fmt.Sprint(m["payload"]), "RATE_LIMITED") {
			refused = fmt.Sprint(m["id"])
		}
	}
	// Ending one live subscription makes room for another.
	live := "0"
	if refused == "0" {
		live = "1"
	}
	send(map[string]any{"id": live, "type": "complete"})
	attempt := 0
	require.Eventually(t, func() bool {
		attempt++
		id := fmt.Sprint("again-", attempt)
		subscribe(id)
		time.Sleep(50 * time.Millisecond)
		send(map[string]any{"type": "ping"})
		admitted := true
		for {
			m := read()
			if m["type"] == "pong" {
				return admitted
			}
			if m["id"] == id && strings.Contains(fmt.Sprint(m["payload"]), "RATE_LIMITED") {
				admitted = false
			}
		}
	}, 10*time.Second, 20*time.Millisecond, "an ended subscription frees its place")
}

// TestConcurrentGenerationLimit: the free plan runs two generations at once;
// a third is RATE_LIMITED and stores nothing, until one of the two ends.
func TestConcurrentGenerationLimit(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, map[string]string{"KOE_SYNTH_CONCURRENCY": "1"})
			_, key := srv.NewUser(auth.RoleUser, "busy@example.com")
			c := srv.Client(key)
			input := map[string]any{"voiceId": "espeak-ng:en-us", "text": text(5000)}
			first := create(t, c, input)
			create(t, c, input)
			before, _ := rows(t, srv)
			r := c.Do(createGeneration, map[string]any{"input": input})
			require.Len(t, r.Errors, 1)
			require.Equal(t, "RATE_LIMITED", r.Errors[0].Code())
			require.EqualValues(t, 5, r.Errors[0].Extensions["retryAfterSeconds"])
			after, _ := rows(t, srv)
			require.Equal(t, before, after, "nothing stored")

			c.Must(`mutation($id: ID!) { cancelGeneration(id: $id) { id } }`, map[string]any{"id": first.ID}, nil)
			create(t, c, input)
		})
	}
}
