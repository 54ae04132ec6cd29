package app_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// process is a koe server running as its own process.
type process struct {
	cmd *exec.Cmd
	url string
}

// buildKoe builds the server binary once per test.
func buildKoe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "koe")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// start runs the binary with env and waits until it says where it serves.
func start(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	// Only what the process needs: the test command's own variables (the
	// emulator's, say) must not configure it.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found, exited := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(exited)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			var line struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Msg == "koe is serving" {
				found <- line.URL
			}
			t.Log(env["KOE_ROLE"], scanner.Text())
		}
	}()
	select {
	case p.url = <-found:
	case <-exited:
		t.Fatal("the process exited before serving")
	case <-time.After(60 * time.Second):
		t.Fatal("the process did not start")
	}
	return p
}

// TestReplicasAndWorkerCrash: two API processes and a worker process on one
// PostgreSQL database. A client subscribed on API 1 sees every step of a job
// submitted on API 2 and run by the worker; the worker is SIGKILLed mid-job,
// another worker rescues the job and finishes it, and usage is settled once.
func TestReplicasAndWorkerCrash(t *testing.T) {
	t.Parallel()
	databaseURL, dataDir := storetest.URL(t, storetest.Postgres)
	bin := buildKoe(t)
	env := map[string]string{
		"DATABASE_URL": databaseURL, "KOE_DATA_DIR": dataDir, "KOE_ADDR": "127.0.0.1:0",
		"KOE_BLOB_URL":      "file://" + filepath.Join(dataDir, "blobs") + "?create_dir=true",
		"KOE_ADMIN_API_KEY": apptest.AdminKey, "KOE_LOG_LEVEL": "info",
		// A short job timeout makes River rescue a dead worker's job soon.
		"KOE_JOB_TIMEOUT": "20s", "KOE_SYNTH_CONCURRENCY": "1",
	}
	role := func(r string) map[string]string {
		e := map[string]string{"KOE_ROLE": r}
		for k, v := range env {
			e[k] = v
		}
		return e
	}
	api1, api2 := start(t, bin, role("api")), start(t, bin, role("api"))
	worker := start(t, bin, role("worker"))

	submit := &apptest.Client{URL: api2.url, Key: apptest.AdminKey}
	watch := &apptest.Client{URL: api1.url, Key: apptest.AdminKey}
	submit.Bind(t)
	watch.Bind(t)
	g := create(t, submit, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(40000)})
	sub := follow(t, watch, apptest.TransportWS, g.ID)
	var seen []event
	for {
		m := sub.Next(t, time.Minute)
		var e struct{ GenerationUpdated event }
		require.NoError(t, json.Unmarshal(m.Data, &e))
		seen = append(seen, e.GenerationUpdated)
		if e.GenerationUpdated.Progress > 0 {
			break
		}
	}
	require.NoError(t, worker.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = worker.cmd.Process.Wait()
	start(t, bin, role("worker"))

	rest := events(t, sub, 3*time.Minute)
	all := append(seen, rest...)
	last := all[len(all)-1]
	require.Equal(t, "SUCCEEDED", last.Status, "the rescued job finished")
	for i := 1; i < len(all); i++ {
		require.GreaterOrEqual(t, all[i].Progress, all[i-1].Progress, "progress never goes back, even across the crash")
	}

	var u struct{ Usage usageNumbers }
	watch.Must(usageQuery, nil, &u)
	require.Equal(t, g.Characters, u.Usage.UsedCharacters, "settled once")
	require.Zero(t, u.Usage.ReservedCharacters)
	require.Len(t, u.Usage.Daily, 1)
	require.Equal(t, 1, u.Usage.Daily[0].Generations)

	// Each API replica answers voices from its own copy of the catalog: a
	// voice switched off on one is off on the other once the bus tells it.
	const voiceQuery = `{ voice(id: "espeak-ng:en-us") { enabled } }`
	var v struct{ Voice struct{ Enabled bool } }
	watch.Must(voiceQuery, nil, &v)
	require.True(t, v.Voice.Enabled, "api1 has read the catalog")
	submit.Must(`mutation { setVoiceEnabled(id: "espeak-ng:en-us", enabled: false) { enabled } }`, nil, nil)
	require.Eventually(t, func() bool {
		watch.Must(voiceQuery, nil, &v)
		return !v.Voice.Enabled
	}, 10*time.Second, 20*time.Millisecond, "api1 sees the change made on api2")
}
