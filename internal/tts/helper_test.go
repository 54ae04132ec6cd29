package tts

import (
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

// TestEngineProcessesStopWhenIdle: a warm process with nothing to do for
// IdleTimeout exits, giving its memory back; the next text starts another.
func TestEngineProcessesStopWhenIdle(t *testing.T) {
	t.Parallel()
	e := &Espeak{Helper: Helper{Program: ttstest.Require(t, "koe-espeak"), Workers: 1, IdleTimeout: 100 * time.Millisecond}}
	t.Cleanup(func() { _ = e.Helper.Close() })
	_, err := Record(t.Context(), e, "gmw/en-US", "Hello.", Params{})
	require.NoError(t, err)
	pid := idleHelper(t, &e.Helper).cmd.Process.Pid
	require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 5*time.Second, 10*time.Millisecond,
		"the idle process exits")
	pcm, err := Record(t.Context(), e, "gmw/en-US", "Hello world.", Params{})
	require.NoError(t, err)
	require.Greater(t, pcm.Duration(), 500*time.Millisecond)
}
