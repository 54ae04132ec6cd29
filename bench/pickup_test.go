package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// pickupCases are BenchmarkPickup's arrival rates (generations a second)
// and KOE_JOB_WORKERS ("" for the default).
var pickupCases = []struct {
	rate    int
	workers string
}{{10, ""}, {100, ""}, {100, "16"}}

// BenchmarkPickup measures what a person waits for while others keep the
// server busy: generations arrive open loop at a steady rate on PostgreSQL
// (each createGeneration sent on schedule from a goroutine of its own,
// whether or not earlier ones have been answered): 10 a second, which this
// 2-core machine keeps up with, and 100. Each is a short sentence (~100
// characters, one chunk, WAV), and the server runs with its default settings
// (KOE_JOB_WORKERS 4, one espeak-ng per core, and the default preferences:
// an email per finished generation, here written to the log). As in
// BenchmarkFirstProgress, events come from one myGenerationUpdates socket
// and times start when a create is due:
//
//   - running_p50_ms/running_p99_ms: the first RUNNING event with
//     chunksTotal > 0, i.e. a worker has picked the job up;
//   - p50_ms/p99_ms: the first event with progress > 0, the sentence spoken;
//   - create_p50_ms/create_p99_ms: the createGeneration round trip;
//   - work_p50_ms: RUNNING to SUCCEEDED, one job's time in a worker;
//   - done/s: generations finished a second, first due to last SUCCEEDED;
//     below the arrival rate, the queue grows and the latencies with it;
//   - cores: the CPU this process (server and client) and its espeak-ng
//     runs used over that span, in cores (PostgreSQL's is not counted);
//   - conn-wait-ms/job: how long the server's queries waited for a
//     database connection over that span, per generation (see
//     BenchmarkQueries).
//
// A last case raises KOE_JOB_WORKERS to 16 at 100/s. b.N is the number of
// generations (-benchtime 1000x is 100 s at 10/s, 10 s at 100/s); ns/op is
// the time per arrival.
func BenchmarkPickup(b *testing.B) {
	for _, pc := range pickupCases {
		name := fmt.Sprintf("postgres/rate=%d/workers=%s", pc.rate, cmp.Or(pc.workers, "default"))
		b.Run(name, func(b *testing.B) {
			rate, env := pc.rate, map[string]string{}
			for k, v := range quiet {
				env[k] = v
			}
			if pc.workers != "" {
				env["KOE_JOB_WORKERS"] = pc.workers
			}
			srv := apptest.Boot(b, storetest.Postgres, env)
			// An operator: plan limits (60 requests a minute, 2 generations
			// at once on the free plan) would measure the limiter, not the server.
			_, key := srv.NewUser(auth.RoleAdmin, "bench@example.com")
			c := srv.Client(key)
			updates := stamp(b, c.Subscribe(apptest.TransportWS, myUpdates, nil))
			body, _ := json.Marshal(map[string]any{"query": createGeneration, "variables": map[string]any{
				"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": prose(100), "format": "WAV"}}})
			create := target{url: srv.URL + "/query", key: key, body: body}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

			// One generation first warms the server up and proves the
			// subscription is in place before anything is timed.
			id := createOne(b, create, client)
			if id == "" {
				b.FailNow()
			}
			for u := range updates {
				if u.ID == id && u.Status == "SUCCEEDED" {
					break
				}
			}

			var (
				mu      sync.Mutex
				due     = map[string]time.Time{}
				created []time.Duration
				wg      sync.WaitGroup
			)
			b.ResetTimer()
			// Events are read as they come, so a full channel never holds
			// up the socket while generations are still arriving.
			followed := make(chan map[string]milestones, 1)
			failed := make(chan error, 1)
			go func() {
				seen, err := follow(updates, b.N)
				if err != nil {
					failed <- err
				}
				followed <- seen
			}()
			probe := &dbProbe{srv}
			wait0 := probe.wait()
			self0, children0 := cpuTime()
			start := time.Now()
			for i := range b.N {
				at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				time.Sleep(time.Until(at))
				wg.Go(func() {
					if id := createOne(b, create, client); id != "" {
						mu.Lock()
						due[id], created = at, append(created, time.Since(at))
						mu.Unlock()
					}
				})
			}
			seen := <-followed
			self, children := cpuTime()
			wait := probe.wait() - wait0
			b.StopTimer()
			wg.Wait()
			select {
			case err := <-failed:
				b.Fatal(err)
			default:
			}

			var running, progressed, work []time.Duration
			last := start
			for id, at := range due {
				m, ok := seen[id]
				if !ok {
					b.Fatalf("no events of generation %s", id)
				}
				running, progressed = append(running, m.running.Sub(at)), append(progressed, m.progressed.Sub(at))
				work = append(work, m.done.Sub(m.running))
				if m.done.After(last) {
					last = m.done
				}
			}
			b.ReportMetric(ms(percentile(progressed, 0.50)), "p50_ms")
			b.ReportMetric(ms(percentile(progressed, 0.99)), "p99_ms")
			b.ReportMetric(ms(percentile(running, 0.50)), "running_p50_ms")
			b.ReportMetric(ms(percentile(running, 0.99)), "running_p99_ms")
			b.ReportMetric(ms(percentile(created, 0.50)), "create_p50_ms")
			b.ReportMetric(ms(percentile(created, 0.99)), "create_p99_ms")
			b.ReportMetric(ms(percentile(work, 0.50)), "work_p50_ms")
			b.ReportMetric(float64(b.N)/last.Sub(start).Seconds(), "done/s")
			b.ReportMetric((self-self0+children-children0).Seconds()/last.Sub(start).Seconds(), "cores")
			b.ReportMetric(ms(wait)/float64(b.N), "conn-wait-ms/job")
		})
	}
}

// createOne sends the createGeneration request t holds and returns the new
// generation's id; it may run on any goroutine.
func createOne(b *testing.B, t target, client *http.Client) string {
	answer, err := t.do(client)
	if err != nil {
		b.Error(err)
		return ""
	}
	var out struct {
		Data struct{ CreateGeneration struct{ ID string } }
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		b.Errorf("decode %s: %v", answer, err)
	}
	return out.Data.CreateGeneration.ID
}

// milestones are when one generation's events first showed it picked up,
// progressed and done. Coalescing can fold an earlier milestone into a later
// event; it then gets that event's time.
type milestones struct{ running, progressed, done time.Time }

// follow reads updates until n generations have SUCCEEDED and returns, by
// generation, when each reached its milestones. It stops with an error on
// FAILED or CANCELED, and after two minutes without an event.
func follow(updates <-chan update, n int) (map[string]milestones, error) {
	seen := map[string]milestones{}
	for done := 0; done < n; {
		var u update
		select {
		case u = <-updates:
		case <-time.After(2 * time.Minute):
			return seen, fmt.Errorf("%d of %d generations finished; no event for two minutes", done, n)
		}
		m := seen[u.ID]
		switch {
		case u.Status == "FAILED" || u.Status == "CANCELED":
			return seen, fmt.Errorf("generation %s ended %s", u.ID, u.Status)
		case u.Status == "SUCCEEDED":
			m.done = u.At
			done++
		case u.Progress > 0 && m.progressed.IsZero():
			m.progressed = u.At
		}
		if u.Status != "QUEUED" && u.ChunksTotal > 0 && m.running.IsZero() {
			m.running = u.At
		}
		if m.progressed.IsZero() && !m.done.IsZero() {
			m.progressed = m.done
		}
		seen[u.ID] = m
	}
	return seen, nil
}
