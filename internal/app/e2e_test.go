package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
)

// prose is ordinary English text for generations.
const prose = "Koe turns text into speech. People type what they want said, pick a voice, and watch the job move while it runs! " +
	"Does it work for long texts? It does: the text is cut at sentence ends and the pieces are spoken side by side. "

// text returns about n characters of prose.
func text(n int) string {
	return strings.TrimSpace(strings.Repeat(prose, n/len(prose)+1)[:n])
}

const createGeneration = `mutation($input: CreateGenerationInput!) {
  createGeneration(input: $input) { id status progress characters format voice { id } owner { id } }
}`

const generationFields = `id status progress characters format
  audio { url contentType bytes durationMs sampleRate }
  error { code message }`

type gen struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	Progress   float64 `json:"progress"`
	Characters int     `json:"characters"`
	Format     string  `json:"format"`
	Audio      *struct {
		URL         string `json:"url"`
		ContentType string `json:"contentType"`
		Bytes       int    `json:"bytes"`
		DurationMs  int    `json:"durationMs"`
		SampleRate  int    `json:"sampleRate"`
	} `json:"audio"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type event struct {
	Status      string  `json:"status"`
	Progress    float64 `json:"progress"`
	ChunksDone  int     `json:"chunksDone"`
	ChunksTotal int     `json:"chunksTotal"`
	Generation  gen     `json:"generation"`
}

func create(t *testing.T, c *apptest.Client, input map[string]any) gen {
	t.Helper()
	var out struct{ CreateGeneration gen }
	c.Must(createGeneration, map[string]any{"input": input}, &out)
	return out.CreateGeneration
}

func follow(t *testing.T, c *apptest.Client, protocol, id string) *apptest.Subscription {
	t.Helper()
	return c.Subscribe(protocol, `subscription($id: ID!) { generationUpdated(id: $id) {
		status progress chunksDone chunksTotal generation { `+generationFields+` } } }`, map[string]any{"id": id})
}

// events reads a generation's events until the server completes the
// subscription, checking progress never goes back.
func events(t *testing.T, sub *apptest.Subscription, timeout time.Duration) []event {
	t.Helper()
	var evs []event
	deadline := time.Now().Add(timeout)
	for {
		m := sub.Next(t, time.Until(deadline))
		if m.Complete {
			return evs
		}
		require.Empty(t, m.Errors)
		var e struct{ GenerationUpdated event }
		require.NoError(t, json.Unmarshal(m.Data, &e))
		if n := len(evs); n > 0 {
			require.GreaterOrEqual(t, e.GenerationUpdated.Progress, evs[n-1].Progress, "progress never decreases")
		}
		evs = append(evs, e.GenerationUpdated)
	}
}

// waitRunning reads a generation's events until its progress has risen.
func waitRunning(t *testing.T, sub *apptest.Subscription) {
	t.Helper()
	for {
		m := sub.Next(t, time.Minute)
		var e struct{ GenerationUpdated event }
		require.NoError(t, json.Unmarshal(m.Data, &e))
		if e.GenerationUpdated.Progress > 0 {
			require.Equal(t, "RUNNING", e.GenerationUpdated.Status)
			return
		}
	}
}

func download(t *testing.T, url string) ([]byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b, resp.Header
}

// requirePlayable checks the file is valid audio of the format, that the
// API's numbers are the file's, and that its length is plausible for speech
// of that many characters (espeak-ng speaks 10–25 characters a second).
func requirePlayable(t *testing.T, g gen, b []byte, header http.Header) {
	t.Helper()
	require.NotNil(t, g.Audio)
	require.Equal(t, g.Audio.Bytes, len(b))
	require.Equal(t, g.Audio.ContentType, header.Get("Content-Type"))
	probe := map[string]func([]byte) (int, int, error){"WAV": tts.ProbeWAV, "MP3": tts.ProbeMP3, "OGG_OPUS": tts.ProbeOggOpus}[g.Format]
	durationMs, sampleRate, err := probe(b)
	require.NoError(t, err, "%s file must parse", g.Format)
	require.Equal(t, g.Audio.DurationMs, durationMs)
	require.Equal(t, g.Audio.SampleRate, sampleRate)
	require.Greater(t, durationMs, g.Characters*1000/25, "too short for %d characters", g.Characters)
	require.Less(t, durationMs, g.Characters*1000/8, "too long for %d characters", g.Characters)
}

// TestEndToEnd is the whole slice a person uses: submit ~2,000 characters,
// follow the job over websockets in both subprotocols, download playable
// audio in every format.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			c := srv.Client(apptest.AdminKey)
			for _, tc := range []struct{ format, protocol string }{
				{"WAV", apptest.TransportWS}, {"MP3", apptest.LegacyWS}, {"OGG_OPUS", apptest.TransportWS},
			} {
				g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(2000), "format": tc.format})
				require.Equal(t, "QUEUED", g.Status)
				require.Equal(t, 2000, g.Characters)

				evs := events(t, follow(t, c, tc.protocol, g.ID), time.Minute)
				require.NotEmpty(t, evs)
				last := evs[len(evs)-1]
				require.Equal(t, "SUCCEEDED", last.Status, "%s over %s: %+v", tc.format, tc.protocol, evs)
				require.Equal(t, 1.0, last.Progress)
				require.Equal(t, last.ChunksTotal, last.ChunksDone)
				require.Greater(t, last.ChunksTotal, 1, "2,000 characters are spoken in several chunks")

				b, header := download(t, last.Generation.Audio.URL)
				requirePlayable(t, last.Generation, b, header)
			}
		})
	}
}

// TestSubscriptionSeesEveryStep follows a generation from before it runs: the
// first event is the current state, progress rises through RUNNING, and the
// last is SUCCEEDED.
func TestSubscriptionSeesEveryStep(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	// A long text keeps the job running long enough to see it move.
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(8000)})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	statuses := map[string]bool{}
	progressed := 0
	for _, e := range evs {
		statuses[e.Status] = true
		if e.Status == "RUNNING" && e.Progress > 0 && e.Progress < 1 {
			progressed++
		}
	}
	require.True(t, statuses["RUNNING"], "%+v", evs)
	require.Greater(t, progressed, 1, "progress rises in steps while running: %+v", evs)
	require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)
}

// TestCancelMidway cancels a running generation: the subscription ends with
// CANCELED, no audio is kept, and River's job stops.
func TestCancelMidway(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, map[string]string{"KOE_SYNTH_CONCURRENCY": "1"})
			c := srv.Client(apptest.AdminKey)
			g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(60000)})
			sub := follow(t, c, apptest.TransportWS, g.ID)
			waitRunning(t, sub)
			canceledAt := time.Now()
			var out struct{ CancelGeneration gen }
			c.Must(`mutation($id: ID!) { cancelGeneration(id: $id) { id status } }`, map[string]any{"id": g.ID}, &out)
			require.Equal(t, "CANCELED", out.CancelGeneration.Status)
			rest := events(t, sub, 30*time.Second)
			require.Equal(t, "CANCELED", rest[len(rest)-1].Status)

			var jobID int64
			require.NoError(t, srv.DB().NewRaw("SELECT job_id FROM generations WHERE id = ?", g.ID).Scan(t.Context(), &jobID))
			require.Eventually(t, func() bool {
				var state string
				err := srv.DB().NewRaw("SELECT state FROM river_job WHERE id = ?", jobID).Scan(t.Context(), &state)
				return err == nil && state != "running"
			}, 30*time.Second, 10*time.Millisecond, "the job stops")
			t.Logf("%s: job stopped %s after cancelGeneration", kind, time.Since(canceledAt))

			// A second cancel is a conflict, and the generation stays canceled
			// with no audio.
			r := c.Do(`mutation($id: ID!) { cancelGeneration(id: $id) { id } }`, map[string]any{"id": g.ID})
			require.Len(t, r.Errors, 1)
			require.Equal(t, "CONFLICT", r.Errors[0].Code())
			var after struct{ Generation gen }
			c.Must(`query($id: ID!) { generation(id: $id) { `+generationFields+` } }`, map[string]any{"id": g.ID}, &after)
			require.Equal(t, "CANCELED", after.Generation.Status)
			require.Nil(t, after.Generation.Audio)
		})
	}
}

// TestRestartFinishesJob stops the server while a generation runs and starts
// another on the same database: the job runs again and finishes, nothing
// lost and progress never going back.
func TestRestartFinishesJob(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, map[string]string{"KOE_SYNTH_CONCURRENCY": "1"})
			c := srv.Client(apptest.AdminKey)
			g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(30000), "format": "MP3"})
			sub := follow(t, c, apptest.TransportWS, g.ID)
			waitRunning(t, sub)
			// No grace: the running job is canceled by the shutdown and
			// River queues it again.
			srv.Restart(time.Millisecond)
			select {
			case code := <-sub.Closed:
				require.Equal(t, 1001, code, "subscribers are told the server is going away")
			case <-time.After(10 * time.Second):
				t.Fatal("the old server did not close its websockets")
			}

			c = srv.Client(apptest.AdminKey)
			evs := events(t, follow(t, c, apptest.LegacyWS, g.ID), 2*time.Minute)
			last := evs[len(evs)-1]
			require.Equal(t, "SUCCEEDED", last.Status)
			b, header := download(t, last.Generation.Audio.URL)
			requirePlayable(t, last.Generation, b, header)
		})
	}
}

// nextMyUpdate reads the next event of a `myGenerationUpdates { status
// generation { id } }` subscription and returns its generation and status;
// a FAILED generation fails the test.
func nextMyUpdate(t *testing.T, updates *apptest.Subscription, timeout time.Duration) (id, status string) {
	t.Helper()
	m := updates.Next(t, timeout)
	require.Empty(t, m.Errors)
	var e struct {
		MyGenerationUpdates struct {
			Status     string
			Generation struct{ ID string }
		}
	}
	require.NoError(t, json.Unmarshal(m.Data, &e))
	u := e.MyGenerationUpdates
	require.NotEqual(t, "FAILED", u.Status)
	return u.Generation.ID, u.Status
}

// TestConcurrentGenerations submits 50 generations at once; all finish.
func TestConcurrentGenerations(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	updates := c.Subscribe(apptest.TransportWS, `subscription { myGenerationUpdates { status generation { id } } }`, nil)

	const n = 50
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": fmt.Sprintf("Generation number %d. %s", i, prose)})
			ids <- g.ID
		})
	}
	wg.Wait()
	close(ids)
	pending := map[string]bool{}
	for id := range ids {
		pending[id] = true
	}
	require.Len(t, pending, n)
	for len(pending) > 0 {
		if id, status := nextMyUpdate(t, updates, 2*time.Minute); status == "SUCCEEDED" {
			delete(pending, id)
		}
	}
	var total struct{ Generations struct{ TotalCount int } }
	c.Must(`{ generations(status: SUCCEEDED) { totalCount } }`, nil, &total)
	require.Equal(t, n, total.Generations.TotalCount)
}
