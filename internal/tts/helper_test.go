package tts

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/tts/ttstest"
)

// onlyIdle is the one idle process of a pool of one worker.
func onlyIdle[P interface {
	alive() bool
	stop()
}](t *testing.T, pool *warmPool[P]) P {
	t.Helper()
	pool.mu.Lock()
	defer pool.mu.Unlock()
	require.Len(t, pool.idle, 1)
	return pool.idle[0].proc
}

// idleHelper is the one idle process of a helper of one worker.
func idleHelper(t *testing.T, h *Helper) *helperProcess {
	t.Helper()
	return onlyIdle(t, h.warm())
}

// helped are an engine of each helper, speaking through it with one
// process, and a voice of theirs.
func helped(t *testing.T) map[string]struct {
	engine Synthesizer
	helper *Helper
	voice  string
} {
	e := &Espeak{Helper: Helper{Program: ttstest.Require(t, "koe-espeak"), Workers: 1}}
	f := &Flite{Helper: Helper{Program: ttstest.Require(t, "koe-flite"), Workers: 1}}
	t.Cleanup(func() { _ = e.Helper.Close(); _ = f.Helper.Close() })
	return map[string]struct {
		engine Synthesizer
		helper *Helper
		voice  string
	}{"koe-espeak": {e, &e.Helper, "gmw/en-US"}, "koe-flite": {f, &f.Helper, "kal16"}}
}

// TestHelperRecovers: a helper process that died is replaced on the next
// text, which is spoken; a helper that cannot start says so at Warm.
func TestHelperRecovers(t *testing.T) {
	t.Parallel()
	for name, h := range helped(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, h.helper.Warm(t.Context()))
			dead := idleHelper(t, h.helper)
			require.NoError(t, dead.cmd.Process.Kill())
			<-dead.exited
			pcm, err := Record(t.Context(), h.engine, h.voice, "Hello world.", Params{})
			require.NoError(t, err)
			require.Greater(t, pcm.Duration(), 500*time.Millisecond)
			require.NotSame(t, dead, idleHelper(t, h.helper))
		})
	}

	for _, program := range []string{"koe-no-such-helper", "true", "yes"} {
		err := (&Helper{Program: program}).Warm(t.Context())
		require.ErrorIs(t, err, ErrTransient, program)
	}
}

// TestEngineProcessesStopWhenIdle: warm processes with nothing to do for
// IdleTimeout exit, giving their memory back; the next text starts another.
func TestEngineProcessesStopWhenIdle(t *testing.T) {
	t.Parallel()
	e := &Espeak{Helper: Helper{Program: ttstest.Require(t, "koe-espeak"), Workers: 2, IdleTimeout: 300 * time.Millisecond}}
	t.Cleanup(func() { _ = e.Helper.Close() })
	// Two texts at once, each waiting for the other to be under way: two
	// processes.
	var both sync.WaitGroup
	both.Add(2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			first := true
			errs <- e.Synthesize(t.Context(), "gmw/en-US", "Hello world.", Params{}, pcmFunc(func(PCM) error {
				if first {
					first = false
					both.Done()
					both.Wait()
				}
				return nil
			}))
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	pool := e.Helper.warm()
	pool.mu.Lock()
	var pids []int
	for _, p := range pool.idle {
		pids = append(pids, p.proc.cmd.Process.Pid)
	}
	pool.mu.Unlock()
	require.Len(t, pids, 2)
	for _, pid := range pids {
		require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 5*time.Second, 10*time.Millisecond,
			"the idle process %d exits", pid)
	}
	pcm, err := Record(t.Context(), e, "gmw/en-US", "Hello world.", Params{})
	require.NoError(t, err)
	require.Greater(t, pcm.Duration(), 500*time.Millisecond)
}
