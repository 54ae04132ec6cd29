package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// clientCounts are the numbers of concurrent clients the read benchmarks
// simulate: the load of the first runs in BENCHMARKS.md, and eight times it.
var clientCounts = []int{64, 512}

// The two reads a signed-in page makes: the voice picker, and the list of
// one's recent generations (whose voice and owner come from dataloaders).
const (
	voicesQuery      = `{ voices(first: 50) { edges { node { id name language languageName gender tags } } } }`
	generationsQuery = `{ generations(first: 20) { edges { node { id status voice { name } owner { id } } } } }`
)

// BenchmarkQueries measures requests per second and mean/p50/p99 latency of
// two GraphQL reads under 64 and 512 concurrent keep-alive clients, on SQLite
// and on PostgreSQL, and compares each with a ceiling: a plain net/http
// handler on this machine that answers the same request with the same JSON
// bytes, captured once from Koe. At each client count the ceiling runs
// first; Koe's sub-benchmark then reports x_ceiling, its requests/s as a
// fraction of the ceiling's. A last run with one client alone gives the
// latency of a request that waits for nothing but its own work (the
// dataloaders' 2 ms batching window included).
//
// Client and server run in this one process and share the machine's cores,
// so the ceiling is also the most this load generator can drive; cpu-us/req
// is this process's CPU time per request, client and server together (and
// for the ceiling, nearly all client), so Koe's minus the ceiling's is
// roughly what the server spends on a request outside the database process.
// conn-wait-ms/req and sqlite-busy show whether requests queue for the
// database (SQLite has one connection; PostgreSQL pgxpool's default four).
func BenchmarkQueries(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			srv := boot(b, kind)
			// An operator: plan limits (60 requests a minute, 2 generations
			// at once on the free plan) would measure the limiter, not the server.
			_, key := srv.NewUser(auth.RoleAdmin, "bench@example.com")
			seed(b, srv.Client(key), 25)
			for _, q := range []struct{ name, query string }{{"voices", voicesQuery}, {"generations", generationsQuery}} {
				b.Run(q.name, func(b *testing.B) {
					req, _ := json.Marshal(map[string]any{"query": q.query})
					koe := target{url: srv.URL + "/query", key: key, body: req, db: &dbProbe{srv}}
					answer := koe.capture(b)
					ceiling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						_, _ = io.Copy(io.Discard, r.Body)
						w.Header().Set("Content-Type", "application/json")
						_, _ = w.Write(answer)
					}))
					defer ceiling.Close()

					for _, clients := range clientCounts {
						var ceilingRPS float64
						b.Run(fmt.Sprintf("clients=%d/ceiling", clients), func(b *testing.B) {
							ceilingRPS = target{url: ceiling.URL, key: key, body: req}.load(b, clients)
						})
						b.Run(fmt.Sprintf("clients=%d/koe", clients), func(b *testing.B) {
							if rps := koe.load(b, clients); ceilingRPS > 0 {
								b.ReportMetric(rps/ceilingRPS, "x_ceiling")
							}
							b.ReportMetric(float64(len(answer)), "B/resp")
						})
					}
					// One client alone: the latency of a request with nothing
					// queued ahead of it.
					b.Run("clients=1/koe", func(b *testing.B) { koe.load(b, 1) })
				})
			}
		})
	}
}

// seed creates n short generations and waits until the workers have finished
// them all, so no speech is being made while the reads are measured.
func seed(b *testing.B, c *apptest.Client, n int) {
	b.Helper()
	for i := range n {
		c.Must(createGeneration, map[string]any{"input": map[string]any{
			"voiceId": "espeak-ng:en-us", "text": fmt.Sprintf("Generation number %d is a short one.", i+1)}}, nil)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var out struct {
			Generations struct {
				Edges []struct{ Node struct{ Status string } }
			}
		}
		c.Must(`{ generations(first: 50) { edges { node { status } } } }`, nil, &out)
		done := 0
		for _, e := range out.Generations.Edges {
			if s := e.Node.Status; s == "SUCCEEDED" {
				done++
			} else if s == "FAILED" || s == "CANCELED" {
				b.Fatalf("a seeded generation ended %s", s)
			}
		}
		if done == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d seeded generations finished in 2 minutes", done, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// target is a GraphQL request to send again and again.
type target struct {
	url, key string
	body     []byte
	// db, when set, looks at the server's database connections.
	db *dbProbe
}

// dbProbe reads the connection statistics of a booted server.
type dbProbe struct{ srv *apptest.Server }

// wait is how long the server has waited for database connections in all:
// for SQLite's writing connection and its readers in database/sql, for
// PostgreSQL in the pgx pool under it.
func (p *dbProbe) wait() time.Duration {
	db := p.srv.App.DB()
	d := db.DB.Stats().WaitDuration
	if db.Read != db.DB {
		d += db.Read.Stats().WaitDuration
	}
	if db.Pool != nil {
		d += db.Pool.Stat().EmptyAcquireWaitTime()
	}
	return d
}

// sqliteUse is how busy SQLite's connections were: the fraction of the time
// the writing one was in use, and the mean number of readers in use.
type sqliteUse struct{ writer, readers float64 }

// sqliteBusy samples, every millisecond until stop is closed, how many of
// the SQLite connections are in use, and sends the result. On PostgreSQL it
// sends nothing and closes the channel: database/sql's in-use count there
// includes connections still waiting for the pgx pool, so it says nothing
// clear.
func (p *dbProbe) sqliteBusy(stop <-chan struct{}) <-chan sqliteUse {
	out := make(chan sqliteUse, 1)
	db := p.srv.App.DB()
	if db.Pool != nil {
		close(out)
		return out
	}
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		writer, readers, all := 0, 0, 0
		for {
			select {
			case <-stop:
				n := float64(max(all, 1))
				out <- sqliteUse{float64(writer) / n, float64(readers) / n}
				return
			case <-tick.C:
				all++
				if db.DB.Stats().InUse > 0 {
					writer++
				}
				readers += db.Read.Stats().InUse
			}
		}
	}()
	return out
}

// do sends the request once on client and returns the answer, failing on
// anything but a 200 without GraphQL errors.
func (t target) do(client *http.Client) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.key)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors":`)) {
		return nil, fmt.Errorf("%s: %d %.300s", t.url, resp.StatusCode, body)
	}
	return body, nil
}

// capture returns one answer to the request.
func (t target) capture(b *testing.B) []byte {
	b.Helper()
	body, err := t.do(http.DefaultClient)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// load sends b.N requests from n goroutines, each a client reusing its
// keep-alive connection, and reports req/s, mean_ms, p50_ms, p99_ms,
// cpu-us/req and, for Koe, conn-wait-ms/req (the mean time a request's
// queries queued for a database connection) and on SQLite sqlite-busy (the
// fraction of the time its writing connection was in use) and
// sqlite-readers (the mean number of its read-only connections in use); it
// returns the requests per second.
func (t target) load(b *testing.B, n int) float64 {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: n, MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	// Open the connections before the clock starts.
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := t.do(client); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()

	var (
		sent      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		wait0     time.Duration
		stop      = make(chan struct{})
		busy      <-chan sqliteUse
	)
	if t.db != nil {
		wait0, busy = t.db.wait(), t.db.sqliteBusy(stop)
	}
	cpu0, _ := cpuTime()
	b.ResetTimer()
	for range n {
		wg.Go(func() {
			var mine []time.Duration
			for sent.Add(1) <= int64(b.N) {
				start := time.Now()
				if _, err := t.do(client); err != nil {
					b.Error(err)
					break
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	cpu, _ := cpuTime()
	rps := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(ms(mean(latencies)), "mean_ms")
	b.ReportMetric(ms(percentile(latencies, 0.50)), "p50_ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), "p99_ms")
	b.ReportMetric(float64(cpu-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/req")
	if t.db != nil {
		b.ReportMetric(ms(t.db.wait()-wait0)/float64(b.N), "conn-wait-ms/req")
		if u, ok := <-busy; ok {
			b.ReportMetric(u.writer, "sqlite-busy")
			b.ReportMetric(u.readers, "sqlite-readers")
		}
	}
	return rps
}
