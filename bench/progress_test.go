package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const createGeneration = `mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }`

// myUpdates carries every change to any of the caller's generations, so one
// socket, opened before the first generation, sees them all.
const myUpdates = `subscription { myGenerationUpdates { status progress chunksDone chunksTotal generation { id } } }`

// update is one event of myUpdates, stamped when the client read it.
type update struct {
	ID          string
	Status      string
	Progress    float64
	ChunksDone  int
	ChunksTotal int
	At          time.Time
}

// stamp reads sub's messages as they arrive, stamping each with the time it
// was read, so the time between an event and its matching with a create does
// not count.
func stamp(b *testing.B, sub *apptest.Subscription) <-chan update {
	out := make(chan update, 1024)
	go func() {
		defer close(out)
		for m := range sub.Messages {
			at := time.Now()
			if m.Complete || len(m.Errors) > 0 {
				b.Errorf("subscription ended: %+v", m.Errors)
				return
			}
			var e struct {
				MyGenerationUpdates struct {
					Status      string
					Progress    float64
					ChunksDone  int
					ChunksTotal int
					Generation  struct{ ID string }
				}
			}
			if err := json.Unmarshal(m.Data, &e); err != nil {
				b.Errorf("decode %s: %v", m.Data, err)
				return
			}
			u := e.MyGenerationUpdates
			out <- update{ID: u.Generation.ID, Status: u.Status, Progress: u.Progress, ChunksDone: u.ChunksDone, ChunksTotal: u.ChunksTotal, At: at}
		}
	}()
	return out
}

// BenchmarkFirstProgress measures what a person waits for after pressing
// "speak": the time from sending createGeneration (HTTP POST to the booted
// server) to the first event of the generation with progress > 0, which comes
// when the first chunk of the text has been spoken. Events are read from
// myGenerationUpdates (the same GenerationEvent that generationUpdated sends),
// one socket for all generations. It reports p50_ms/p99_ms, and on the way:
//
//   - create_p50_ms: the createGeneration round trip alone;
//   - running_p50_ms/running_p99_ms: the first RUNNING event with
//     chunksTotal > 0, i.e. a worker has picked the job up and split the text
//     (River's fetch latency plus one UPDATE).
//
// Each generation is ~2,000 characters (ChunkRunes 500: 5 chunks, 2 spoken at
// once), and the next is created only after the previous one has finished,
// so these are latencies of an idle server, not of a queue. ns/op is one
// whole generation, create to SUCCEEDED. Servers: SQLite, PostgreSQL, and
// SQLite with KOE_JOB_WAKE=false (River's listener polling every 50 ms).
func BenchmarkFirstProgress(b *testing.B) {
	text := prose(2000)
	servers := []server{
		{"sqlite", storetest.SQLite, nil},
		{"postgres", storetest.Postgres, nil},
		// River's SQLite listener left to poll (package riverwake).
		{"sqlite-no-wake", storetest.SQLite, map[string]string{"KOE_JOB_WAKE": "false"}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			srv := bootWith(b, s.kind, s.env)
			// An operator: plan limits (60 requests a minute, 2 generations
			// at once on the free plan) would measure the limiter, not the server.
			_, key := srv.NewUser(auth.RoleAdmin, "bench@example.com")
			c := srv.Client(key)
			updates := stamp(b, c.Subscribe(apptest.TransportWS, myUpdates, nil))
			input := map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": text, "format": "WAV"}}

			// The first generation warms up the server and proves the
			// subscription is in place before anything is timed.
			followOne(b, c, updates, input)

			var created, running, progressed []time.Duration
			for b.Loop() {
				t := followOne(b, c, updates, input)
				created, running, progressed = append(created, t.created), append(running, t.running), append(progressed, t.progressed)
			}
			b.ReportMetric(ms(percentile(progressed, 0.50)), "p50_ms")
			b.ReportMetric(ms(percentile(progressed, 0.99)), "p99_ms")
			b.ReportMetric(ms(percentile(running, 0.50)), "running_p50_ms")
			b.ReportMetric(ms(percentile(running, 0.99)), "running_p99_ms")
			b.ReportMetric(ms(percentile(created, 0.50)), "create_p50_ms")
		})
	}
}

// timeline is one generation followed from sending createGeneration to
// SUCCEEDED, each step as the time since the request was sent.
type timeline struct {
	// created: createGeneration answered (the job is queued).
	created time.Duration
	// running: the first RUNNING event with chunksTotal > 0, i.e. a worker
	// has picked the job up and split the text.
	running time.Duration
	// progressed: the first event with progress > 0, i.e. a chunk has been
	// spoken.
	progressed time.Duration
	// spoken: the first event with every chunk spoken, before the audio is
	// finished and stored; 0 when that event was folded into SUCCEEDED.
	spoken time.Duration
	// succeeded: SUCCEEDED, the audio is stored.
	succeeded time.Duration
	chunks    int
}

// followOne creates a generation from input with c and follows it on
// updates (c's myUpdates, stamped) until it has succeeded; any other end,
// or more than a minute, fails b.
func followOne(b *testing.B, c *apptest.Client, updates <-chan update, input map[string]any) timeline {
	b.Helper()
	start := time.Now()
	var out struct{ CreateGeneration struct{ ID string } }
	c.Must(createGeneration, input, &out)
	t := timeline{created: time.Since(start)}
	id := out.CreateGeneration.ID
	timeout := time.After(time.Minute)
	for {
		var u update
		select {
		case u = <-updates:
		case <-timeout:
			b.Fatalf("generation %s did not finish within a minute", id)
		}
		if u.ID != id {
			continue
		}
		at := u.At.Sub(start)
		if t.running == 0 && u.Status == "RUNNING" && u.ChunksTotal > 0 {
			t.running, t.chunks = at, u.ChunksTotal
		}
		if t.progressed == 0 && u.Progress > 0 {
			t.progressed = at
		}
		if t.spoken == 0 && u.Status == "RUNNING" && u.ChunksTotal > 0 && u.ChunksDone == u.ChunksTotal {
			t.spoken = at
		}
		switch u.Status {
		case "SUCCEEDED":
			t.succeeded = at
			return t
		case "FAILED", "CANCELED":
			b.Fatalf("generation %s ended %s", id, u.Status)
		}
	}
}
