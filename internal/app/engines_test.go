package app_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ttstest"
)

// speechServer is an OpenAI-compatible POST /v1/audio/speech server (there is
// none reachable here): it answers 24 kHz PCM, 60 ms of tone per character,
// and fails the first `failFirst` requests with 503. Voice "broken" is refused
// for good; voice "slow" never answers, until the caller gives up.
func speechServer(t *testing.T, failFirst int64) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/audio/speech" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct{ Input, Voice, Model, ResponseFormat string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &req)
		if req.Voice == "slow" {
			<-r.Context().Done() // speaks until the caller gives up
			return
		}
		if req.Voice == "broken" {
			http.Error(w, `{"error":{"message":"voice broken is not available"}}`, http.StatusBadRequest)
			return
		}
		if n <= failFirst {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		samples := len([]rune(req.Input)) * 24000 * 60 / 1000
		out := make([]byte, 2*samples)
		for i := range samples {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(8000*math.Sin(float64(i)*2*math.Pi*220/24000))))
		}
		w.Header().Set("Content-Type", "audio/pcm")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestOpenAICompatibleEngine: with KOE_OPENAI_TTS_URL set, the server's
// voices join the catalog and speak; a transient failure is retried with
// River's backoff, a final one fails the generation with a code.
func TestOpenAICompatibleEngine(t *testing.T) {
	t.Parallel()
	speech, calls := speechServer(t, 1)
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{
		"KOE_OPENAI_TTS_URL": speech.URL, "KOE_OPENAI_TTS_KEY": "sk-test", "KOE_OPENAI_TTS_VOICES": "alloy,nova,broken",
	})
	c := srv.Client(apptest.AdminKey)
	var voices struct {
		Voices struct {
			TotalCount int
			Edges      []struct {
				Node struct{ ID, Engine, Language string }
			}
		}
	}
	c.Must(`{ voices(filter: {engine: "openai"}) { totalCount edges { node { id engine language } } } }`, nil, &voices)
	require.Equal(t, 3, voices.Voices.TotalCount)
	require.Equal(t, "openai:alloy", voices.Voices.Edges[0].Node.ID)

	// The first request answers 503: River retries after its backoff.
	g := create(t, c, map[string]any{"voiceId": "openai:nova", "text": "Hello there.", "format": "WAV"})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last := evs[len(evs)-1]
	require.Equal(t, "SUCCEEDED", last.Status)
	require.GreaterOrEqual(t, calls.Load(), int64(2))
	b, _ := download(t, last.Generation.Audio.URL)
	durationMs, rate, err := tts.ProbeWAV(b)
	require.NoError(t, err)
	require.Equal(t, 24000, rate)
	require.InDelta(t, len("Hello there.")*60, durationMs, 5)

	// A 4xx is final: FAILED at once, with a code and words, no retries.
	g = create(t, c, map[string]any{"voiceId": "openai:broken", "text": "Never spoken."})
	evs = events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last = evs[len(evs)-1]
	require.Equal(t, "FAILED", last.Status)
	require.Equal(t, "ENGINE_FAILED", last.Generation.Error.Code)
	require.NotEmpty(t, last.Generation.Error.Message)
}

// TestVoicePreview: a voice's previewUrl serves a short playable sample.
func TestVoicePreview(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	var v struct{ Voice struct{ PreviewURL string } }
	srv.Client("").Must(`{ voice(id: "espeak-ng:ja") { previewUrl } }`, nil, &v)
	for range 2 {
		b, header := download(t, v.Voice.PreviewURL)
		require.Equal(t, "audio/mpeg", header.Get("Content-Type"))
		durationMs, _, err := tts.ProbeMP3(b)
		require.NoError(t, err)
		require.Greater(t, durationMs, 1000)
		require.Less(t, durationMs, 15000)
	}
	resp, err := http.Get(srv.URL + "/voices/espeak-ng:nope/preview")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestAPIAndWorkerProcesses: on PostgreSQL an API process and a worker
// process split the work; a subscriber on the API sees every step the worker
// makes, through LISTEN/NOTIFY.
func TestAPIAndWorkerProcesses(t *testing.T) {
	t.Parallel()
	api := apptest.Boot(t, storetest.Postgres, map[string]string{"KOE_ROLE": "api"})
	worker := api.Another(map[string]string{"KOE_ROLE": "worker"})

	resp, err := http.Post(worker.URL+"/query", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a worker serves no API")
	resp, err = http.Get(worker.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	c := api.Client(apptest.AdminKey)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(6000)})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)
	running := 0
	for _, e := range evs {
		if e.Status == "RUNNING" {
			running++
		}
	}
	require.Greater(t, running, 1, "progress made by the worker reaches the API's subscriber: %+v", evs)
}

// TestMissingEngines: a server whose engines are not installed starts all
// the same, offering none of their voices, even those a start with the
// engines listed before; installed again, they are back.
func TestMissingEngines(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	// engines counts the voices offered of each local engine.
	engines := func() map[string]int {
		n := map[string]int{}
		for _, engine := range []string{"espeak-ng", "flite", "festival"} {
			var list struct{ Voices struct{ TotalCount int } }
			c.Must(`query($e: String!) { voices(filter: {engine: $e}) { totalCount } }`, map[string]any{"e": engine}, &list)
			if list.Voices.TotalCount > 0 {
				n[engine] = list.Voices.TotalCount
			}
		}
		return n
	}
	before := engines()
	require.Greater(t, before["espeak-ng"], 100)
	require.Equal(t, 4, before["flite"], "flite is installed here (make deps)")
	require.Equal(t, 2, before["festival"], "festival and its voices are installed here (make deps)")

	missing := filepath.Join(t.TempDir(), "missing")
	srv.Env["KOE_ESPEAK_PATH"], srv.Env["KOE_FLITE_PATH"], srv.Env["KOE_FESTIVAL_PATH"] = missing, missing, missing
	srv.Restart(10 * time.Second)
	c = srv.Client(apptest.AdminKey)
	require.Empty(t, engines(), "no engine, no voice")
	resp := c.Do(`mutation($i: CreateGenerationInput!) { createGeneration(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"voiceId": "flite:slt", "text": "Hello."}})
	require.NotEmpty(t, resp.Errors, "a voice of a missing engine does not speak")

	delete(srv.Env, "KOE_FLITE_PATH")
	srv.Restart(10 * time.Second)
	c = srv.Client(apptest.AdminKey)
	require.Equal(t, map[string]int{"flite": 4}, engines())
}

// TestEnglishEngines: Flite's and Festival's voices (installed by make
// deps) each say their preview, and a generation with Festival's HTS voice
// comes out at its rate.
func TestEnglishEngines(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	for _, id := range []string{"flite:slt", "flite:rms", "flite:awb", "flite:kal16", "festival:cmu_us_slt_arctic_hts", "festival:kal_diphone"} {
		var v struct{ Voice struct{ PreviewURL string } }
		c.Must(`query($id: ID!) { voice(id: $id) { previewUrl } }`, map[string]any{"id": id}, &v)
		require.NotEmpty(t, v.Voice.PreviewURL, id)
		b, _ := download(t, v.Voice.PreviewURL)
		durationMs, _, err := tts.ProbeMP3(b)
		require.NoError(t, err, id)
		require.Greater(t, durationMs, 1000, id)
		require.Less(t, durationMs, 15000, id)
	}

	g := create(t, c, map[string]any{"voiceId": "festival:cmu_us_slt_arctic_hts", "text": "Hello world, this is Koe. It reads two sentences.", "format": "WAV"})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	last := evs[len(evs)-1]
	require.Equal(t, "SUCCEEDED", last.Status, "%+v", last)
	require.Equal(t, 32000, last.Generation.Audio.SampleRate)
	require.Greater(t, last.Generation.Audio.DurationMs, 2000)
	require.Less(t, last.Generation.Audio.DurationMs, 8000)
}

// TestEngineHelpers: with their helpers (as apptest and make run give
// them) espeak-ng and Flite speak through warm helper processes of the
// server's; with helpers that do not work the server says so and starts a
// process per chunk, and every generation is spoken either way.
func TestEngineHelpers(t *testing.T) {
	t.Parallel()
	espeak, flite := ttstest.Require(t, "koe-espeak"), ttstest.Require(t, "koe-flite")
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ESPEAK_HELPER": espeak, "KOE_FLITE_HELPER": flite})
	speak := func() {
		t.Helper()
		c := srv.Client(apptest.AdminKey)
		for voice, rate := range map[string]int{"espeak-ng:en-us": 22050, "flite:slt": 16000} {
			g := create(t, c, map[string]any{"voiceId": voice, "text": "Hello world. This is Koe, speaking through " + voice + ".", "format": "WAV"})
			evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
			last := evs[len(evs)-1]
			require.Equal(t, "SUCCEEDED", last.Status, "%s: %+v", voice, last)
			require.Equal(t, rate, last.Generation.Audio.SampleRate, voice)
			require.Greater(t, last.Generation.Audio.DurationMs, 2000, voice)
			require.Less(t, last.Generation.Audio.DurationMs, 8000, voice)
		}
	}
	speak()
	require.NotEmpty(t, children(t, espeak), "a koe-espeak of the server's spoke")
	require.NotEmpty(t, children(t, flite), "a koe-flite of the server's spoke")

	// They start, say nothing and exit.
	srv.Env["KOE_ESPEAK_HELPER"], srv.Env["KOE_FLITE_HELPER"] = "true", "true"
	srv.Restart(10 * time.Second)
	speak()
}

// children are the pids of this process's children running program.
func children(t *testing.T, program string) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var pids []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after it.
		_, rest, _ := strings.Cut(string(b), ") ")
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err != nil || ppid != os.Getpid() {
			continue
		}
		dir := filepath.Dir(stat)
		if exe, _ := os.Readlink(filepath.Join(dir, "exe")); exe == program {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			pids = append(pids, pid)
		}
	}
	return pids
}
