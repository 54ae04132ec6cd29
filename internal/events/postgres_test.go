package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

var _ events.Bus = (*events.Postgres)(nil)

// wait is how long a notification may take to arrive; it bounds a wait for
// something that should happen, never decides that something did not.
const wait = 15 * time.Second

// process is one Koe process's bus: its own pool on the shared database.
type process struct {
	bus  *events.Postgres
	pool *pgxpool.Pool
}

// startBus opens a pool on databaseURL (a process of its own), starts the
// bus's listener and waits until it listens. The listener is stopped, and
// must return, when the test ends.
func startBus(t *testing.T, databaseURL string) process {
	t.Helper()
	db, err := store.Open(t.Context(), databaseURL, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return startBusOn(t, db.Pool)
}

func startBusOn(t *testing.T, pool *pgxpool.Pool) process {
	t.Helper()
	bus, err := events.NewPostgres(t.Context(), pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return run(t, bus, pool)
}

// run starts bus's listener and waits until it listens.
func run(t *testing.T, bus *events.Postgres, pool *pgxpool.Pool) process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		bus.Run(ctx, ready)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("Run did not return after its context ended")
		}
	})
	select {
	case <-ready:
	case <-time.After(wait):
		t.Fatal("the listener did not start")
	}
	return process{bus: bus, pool: pool}
}

// waitFor waits until in holds n messages and returns them.
func waitFor(t *testing.T, in *inbox, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(in.messages()) >= n }, wait, 5*time.Millisecond,
		"waiting for %d messages, have %q", n, in.messages())
	return in.messages()
}

func TestPostgresDeliversToEveryProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	databaseURL, _ := storetest.URL(t, storetest.Postgres)
	api, worker := startBus(t, databaseURL), startBus(t, databaseURL)

	var atAPI, atWorker, ownerAtAPI, elsewhere inbox
	api.bus.Subscribe("generation:1", atAPI.handle)
	api.bus.Subscribe("generations-of:u", ownerAtAPI.handle)
	worker.bus.Subscribe("generation:1", atWorker.handle)
	worker.bus.Subscribe("generation:2", elsewhere.handle)
	require.Equal(t, 1, api.bus.Subscribers("generation:1"), "subscriptions are per process")

	// A payload may hold anything, newlines and all.
	first := "{\"progress\":0.5}\nsecond line, ünïcödé 声"
	require.NoError(t, worker.bus.Publish(ctx, []byte(first), "generation:1", "generations-of:u"))
	require.NoError(t, api.bus.Publish(ctx, []byte("done"), "generation:1"))

	require.Equal(t, []string{first, "done"}, waitFor(t, &atAPI, 2), "the other process and the publisher's own")
	require.Equal(t, []string{first, "done"}, waitFor(t, &atWorker, 2))
	require.Equal(t, []string{first}, waitFor(t, &ownerAtAPI, 1), "one NOTIFY reaches the subscribers of each topic")

	// A marker published after everything else: once it is in, anything
	// misdelivered earlier would be too (one notification queue, in order).
	var markerAtAPI, markerAtWorker inbox
	api.bus.Subscribe("marker", markerAtAPI.handle)
	worker.bus.Subscribe("marker", markerAtWorker.handle)
	require.NoError(t, api.bus.Publish(ctx, []byte("m"), "marker"))
	waitFor(t, &markerAtAPI, 1)
	waitFor(t, &markerAtWorker, 1)
	require.Empty(t, elsewhere.messages(), "no message on a topic nobody published to")
	require.Equal(t, []string{first, "done"}, atAPI.messages(), "each message once")
	require.Equal(t, []string{first, "done"}, atWorker.messages(), "each message once")
	require.Equal(t, []string{first}, ownerAtAPI.messages(), "each message once")
}

func TestPostgresPayloadLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	databaseURL, _ := storetest.URL(t, storetest.Postgres)
	p := startBus(t, databaseURL)
	var in inbox
	p.bus.Subscribe("t", in.handle)

	// 7900 bytes of topics and payload are allowed; one more is not.
	largest := strings.Repeat("x", 7900-len("t"))
	require.NoError(t, p.bus.Publish(ctx, []byte(largest), "t"))
	err := p.bus.Publish(ctx, []byte(largest+"x"), "t")
	require.Error(t, err)
	require.Contains(t, err.Error(), "over the NOTIFY limit")
	err = p.bus.Publish(ctx, []byte(largest[:len(largest)-1]), "t", "u")
	require.Error(t, err, "topics count toward the limit")

	require.NoError(t, p.bus.Publish(ctx, []byte("small"), "t"))
	require.Equal(t, []string{largest, "small"}, waitFor(t, &in, 2), "the largest payload arrives whole")
}

func TestPostgresSchemasDoNotHearEachOther(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	urlA, _ := storetest.URL(t, storetest.Postgres)
	urlB, _ := storetest.URL(t, storetest.Postgres)
	a, b := startBus(t, urlA), startBus(t, urlB)
	var inA, inB inbox
	a.bus.Subscribe("topic", inA.handle)
	b.bus.Subscribe("topic", inB.handle)

	require.NoError(t, a.bus.Publish(ctx, []byte("from A"), "topic"))
	require.NoError(t, b.bus.Publish(ctx, []byte("from B"), "topic"))

	// B's own message was queued after A's: had B heard A, A's would be in.
	require.Equal(t, []string{"from B"}, waitFor(t, &inB, 1))
	require.Equal(t, []string{"from A"}, waitFor(t, &inA, 1))
	require.NoError(t, a.bus.Publish(ctx, []byte("again from A"), "topic"))
	require.Equal(t, []string{"from A", "again from A"}, waitFor(t, &inA, 2))
	require.Equal(t, []string{"from B"}, inB.messages())
}

// listenerPID returns the backend of the connection LISTENing for the bus of
// pool's schema in the process named application.
func listenerPID(t *testing.T, pool *pgxpool.Pool, application string) int {
	t.Helper()
	ctx := t.Context()
	var schema string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	var pids []int
	require.Eventually(t, func() bool {
		rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE query LIKE 'LISTEN%' AND query LIKE '%' || $1 || '%' AND application_name = $2`, "koe_events_"+schema, application)
		if err != nil {
			return false
		}
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err == nil && len(pids) == 1
	}, wait, 10*time.Millisecond, "one listener for schema %s in %s, found %v", schema, application, pids)
	return pids[0]
}

func TestPostgresRunReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	databaseURL, _ := storetest.URL(t, storetest.Postgres)
	// Name the listening process, to tell its connection from the other's.
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", "koe-listener")
	u.RawQuery = q.Encode()
	listener, publisher := startBus(t, u.String()), startBus(t, databaseURL)
	var in inbox
	listener.bus.Subscribe("topic", in.handle)
	require.NoError(t, publisher.bus.Publish(ctx, []byte("before"), "topic"))
	waitFor(t, &in, 1)

	pid := listenerPID(t, listener.pool, "koe-listener")
	var killed bool
	require.NoError(t, publisher.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed))
	require.True(t, killed)

	// Messages published while no one listens are lost; keep publishing
	// until the new listener hears one.
	deadline := time.Now().Add(wait)
	for i := 0; ; i++ {
		require.NoError(t, publisher.bus.Publish(ctx, []byte(fmt.Sprint("after ", i)), "topic"))
		time.Sleep(20 * time.Millisecond)
		if len(in.messages()) > 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no message arrived after the listener was killed")
	}
	got := in.messages()
	require.Equal(t, "before", got[0])
	require.Equal(t, "", got[1], "subscribers hear a nil payload: messages may have been lost, re-read")
	require.True(t, strings.HasPrefix(got[2], "after "), "%q", got)
	require.NotEqual(t, pid, listenerPID(t, listener.pool, "koe-listener"), "a new connection listens")
}

func TestPostgresReadyAfterAFailedFirstAttempt(t *testing.T) {
	t.Parallel()
	databaseURL, _ := storetest.URL(t, storetest.Postgres)
	cfg, err := pgxpool.ParseConfig(databaseURL)
	require.NoError(t, err)
	// The database refuses the next connection once, as it does while
	// starting up or failing over.
	var refuse atomic.Int32
	cfg.BeforeConnect = func(context.Context, *pgx.ConnConfig) error {
		if refuse.Add(-1) >= 0 {
			return errors.New("the database system is starting up")
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	bus, err := events.NewPostgres(t.Context(), pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	pool.Reset() // drop the idle connection, so Run must connect anew
	refuse.Store(1)

	// run fails the test unless ready is closed once the retry listens: a
	// process waiting on it must not time out.
	p := run(t, bus, pool)
	require.Less(t, refuse.Load(), int32(0), "the first attempt was refused")
	var in inbox
	p.bus.Subscribe("topic", in.handle)
	require.NoError(t, p.bus.Publish(t.Context(), []byte("hello"), "topic"))
	require.Equal(t, []string{"hello"}, waitFor(t, &in, 1))
}
