package tts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pieces is a PCMWriter that hands every piece it gets to a channel, so a
// test sees exactly what leaves a Sequence and when.
type pieces chan []int16

func (p pieces) WritePCM(pcm PCM) error {
	p <- append([]int16(nil), pcm.Samples...)
	return nil
}

// next is the next piece out, failing the test when none comes.
func (p pieces) next(t *testing.T) []int16 {
	t.Helper()
	select {
	case s := <-p:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came out")
		return nil
	}
}

func samples(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

// TestSequenceInOrder: chunk 1 finishes while chunk 0 is still being
// spoken; chunk 0's audio goes out as it comes, chunk 1's waits for it.
func TestSequenceInOrder(t *testing.T) {
	t.Parallel()
	out := make(pieces, 100)
	seq := NewSequence(3, out, 0, 0)
	defer seq.Close()
	ran := make(chan error, 1)
	go func() { ran <- seq.Run() }()

	require.NoError(t, seq.Part(2).WritePCM(PCM{SampleRate: 8000, Samples: samples(200, 5)}))
	seq.Done(2)
	require.NoError(t, seq.Part(1).WritePCM(PCM{SampleRate: 8000, Samples: samples(100, 5)}))
	seq.Done(1)
	require.NoError(t, seq.Part(0).WritePCM(PCM{SampleRate: 8000, Samples: samples(0, 3)}))
	require.Equal(t, samples(0, 3), out.next(t), "the first chunk streams through before it is done")
	require.NoError(t, seq.Part(0).WritePCM(PCM{SampleRate: 8000, Samples: samples(3, 2)}))
	require.Equal(t, samples(3, 2), out.next(t), "and nothing of the later chunks comes before it")
	seq.Done(0)

	require.NoError(t, <-ran)
	close(out)
	var rest []int16
	for s := range out {
		rest = append(rest, s...)
	}
	require.Equal(t, append(samples(100, 5), samples(200, 5)...), rest)
	require.Zero(t, seq.Spilled(), "small chunks wait in memory")
}

// TestSequenceSpills: a chunk that finishes early and is larger than the
// memory budget waits in a temporary file, comes back exactly, and leaves
// no file behind.
func TestSequenceSpills(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out pcmBuffer
	seq := NewSequence(2, &out, 1024, 0)
	ran := make(chan error, 1)
	go func() { ran <- seq.Run() }()

	// 100,000 samples (200 KB) in pieces of 4,096, as an engine writes.
	late := samples(-30000, 100_000)
	for start := 0; start < len(late); start += 4096 {
		require.NoError(t, seq.Part(1).WritePCM(PCM{SampleRate: 22050, Samples: late[start:min(start+4096, len(late))]}))
	}
	seq.Done(1)
	require.Greater(t, seq.Spilled(), int64(190_000), "the waiting chunk went to disk")
	files, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, files, "the spool's file has no name: nothing can be left behind")

	first := samples(7, 10)
	require.NoError(t, seq.Part(0).WritePCM(PCM{SampleRate: 22050, Samples: first}))
	seq.Done(0)
	require.NoError(t, <-ran)
	seq.Close()
	require.Equal(t, PCM{SampleRate: 22050, Samples: append(first, late...)}, out.PCM)
}

// TestSequenceLimit: past the limit, the part that crosses it is refused
// with ErrOutputTooLong, counting every part's audio, in any order.
func TestSequenceLimit(t *testing.T) {
	t.Parallel()
	var out pcmBuffer
	seq := NewSequence(2, &out, 0, time.Second)
	defer seq.Close()
	require.NoError(t, seq.Part(1).WritePCM(PCM{SampleRate: 8000, Samples: make([]int16, 6000)}))
	require.NoError(t, seq.Part(0).WritePCM(PCM{SampleRate: 16000, Samples: make([]int16, 4000)}))
	err := seq.Part(0).WritePCM(PCM{SampleRate: 16000, Samples: make([]int16, 2)})
	require.ErrorIs(t, err, ErrOutputTooLong)
	require.ErrorContains(t, err, "more than 1s of audio")
}

// stepEngine speaks "chunk N" as 100 samples of value N, after the chunk
// named in its wait map has been spoken: it makes chunks finish in any
// order a test wants.
type stepEngine struct {
	done map[string]chan struct{}
	wait map[string]string
}

func (stepEngine) Engine() string                          { return "step" }
func (stepEngine) Voices(context.Context) ([]Voice, error) { return nil, nil }

func (s stepEngine) Synthesize(ctx context.Context, _, text string, _ Params, w PCMWriter) error {
	if after, ok := s.wait[text]; ok {
		select {
		case <-s.done[after]:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var n int16
	_, _ = fmt.Sscanf(text, "chunk %d", &n)
	v := make([]int16, 100)
	for i := range v {
		v[i] = n
	}
	err := w.WritePCM(PCM{SampleRate: 8000, Samples: v})
	close(s.done[text])
	return err
}

// TestSpeakInOrder: five chunks finishing last to first come out first to
// last, and each is reported spoken.
func TestSpeakInOrder(t *testing.T) {
	t.Parallel()
	var chunks []string
	e := stepEngine{done: map[string]chan struct{}{}, wait: map[string]string{}}
	for i := range 5 {
		chunks = append(chunks, fmt.Sprintf("chunk %d", i))
		e.done[chunks[i]] = make(chan struct{})
		if i < 4 {
			e.wait[chunks[i]] = fmt.Sprintf("chunk %d", i+1)
		}
	}
	var out pcmBuffer
	var order []int
	var mu sync.Mutex
	err := Speak(t.Context(), e, "v", chunks, Params{}, &out, SpeakOptions{Spoken: func(i int) {
		mu.Lock()
		order = append(order, i)
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.Equal(t, []int{4, 3, 2, 1, 0}, order, "spoken last to first")
	require.Len(t, out.Samples, 500)
	for i, s := range out.Samples {
		require.Equal(t, int16(i/100), s, "sample %d", i)
	}
}

// endless writes silence until its writer refuses or ctx ends: a Speak
// over it returns only once every engine was stopped.
type endless struct{}

func (*endless) Engine() string                          { return "endless" }
func (*endless) Voices(context.Context) ([]Voice, error) { return nil, nil }

func (e *endless) Synthesize(ctx context.Context, _, text string, _ Params, w PCMWriter) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := w.WritePCM(PCM{SampleRate: 8000, Samples: make([]int16, 800)}); err != nil {
			return err
		}
		if text == "slow" {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestSpeakLimitStopsEveryEngine: when one chunk passes the limit, Speak
// fails with ErrOutputTooLong, having stopped the other engines (which
// would otherwise never end).
func TestSpeakLimitStopsEveryEngine(t *testing.T) {
	t.Parallel()
	e := &endless{}
	var out pcmBuffer
	err := Speak(t.Context(), e, "v", []string{"slow", "fast", "slow"}, Params{}, &out, SpeakOptions{MaxDuration: 10 * time.Second})
	require.ErrorIs(t, err, ErrOutputTooLong)
	require.LessOrEqual(t, out.Duration(), 10*time.Second)
}

// TestSpeakLimitKillsEspeak: a long text at half speed with a 2-second
// limit fails with ErrOutputTooLong, espeak-ng stopped mid-text.
func TestSpeakLimitKillsEspeak(t *testing.T) {
	t.Parallel()
	var out pcmBuffer
	e := &Espeak{}
	err := Speak(t.Context(), e, "gmw/en-US", Split(longText(20_000), 2000), Params{Speed: 0.5}, &out,
		SpeakOptions{MaxDuration: 2 * time.Second, Acquire: Slots(make(chan struct{}, 2))})
	require.ErrorIs(t, err, ErrOutputTooLong)
	require.LessOrEqual(t, out.Duration(), 2*time.Second)
}

// TestSpeakEngineFailure: a failing chunk fails Speak with its error and
// stops the others.
func TestSpeakEngineFailure(t *testing.T) {
	t.Parallel()
	e := &endless{}
	boom := errors.New("boom")
	failing := failingEngine{Synthesizer: e, err: boom}
	err := Speak(t.Context(), failing, "v", []string{"slow", "fail"}, Params{}, &pcmBuffer{}, SpeakOptions{})
	require.ErrorIs(t, err, boom)
}

type failingEngine struct {
	Synthesizer
	err error
}

func (f failingEngine) Synthesize(ctx context.Context, voice, text string, p Params, w PCMWriter) error {
	if text == "fail" {
		return f.err
	}
	return f.Synthesizer.Synthesize(ctx, voice, text, p, w)
}
