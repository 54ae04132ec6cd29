package bench

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts/ja"
	catalog "github.com/koe-voice/koe/internal/voice"
)

// alone are the engines' own programs run on a whole text as Koe's
// adapters run them, by engine name, for the voice given. An engine the
// app offers without an entry here is skipped with a message.
var alone = map[string]func(b *testing.B, v catalog.Voice) soloist{
	"espeak-ng": func(_ *testing.B, v catalog.Voice) soloist {
		return process(func(text string) *exec.Cmd {
			// The flags and environment of tts.Espeak at speed 1, pitch 0.
			cmd := exec.Command("espeak-ng", "--stdout", "-b", "1", "-v", v.EngineVoiceID, "-s", "175", "-p", "50")
			cmd.Env = append(os.Environ(), "PULSE_SERVER=unix:/dev/null")
			cmd.Stdin = strings.NewReader(text)
			return cmd
		})
	},
	"flite": func(_ *testing.B, v catalog.Voice) soloist {
		return process(func(text string) *exec.Cmd {
			return exec.Command("flite", "-voice", v.EngineVoiceID, "-o", "/dev/stdout", "-t", text)
		})
	},
	// Koe keeps festival processes warm; so does this, the voice loaded
	// before anything is timed.
	"festival": func(b *testing.B, v catalog.Voice) soloist {
		return startFestival(b, v.EngineVoiceID)
	},
}

// A soloist speaks a whole text with an engine's program and says when
// the first audio came (the first byte past the WAV header) and when it
// was done.
type soloist interface {
	speak(text string) (first, total time.Duration, err error)
}

// frontEnd is what turns text into what v is given, for voices Koe does
// not give the text as written, nil for the others: espeak-ng's Japanese
// voices read the Japanese front end's kana (ja.FrontEnd in internal/app).
func frontEnd(v catalog.Voice) func(string) string {
	if v.Engine == "espeak-ng" && base(v.Language) == "ja" {
		return ja.Reading
	}
	return nil
}

// BenchmarkEngines measures, for every engine the app offers (one voice for
// English and one for Japanese where it speaks them) and the texts in
// testdata (about 200 and 2,000 characters of prose with numbers and
// dates), the speed of synthesis by Koe end to end beside the engine alone
// on the same text in the same run, alternating one of each per operation,
// on a server on SQLite, one on PostgreSQL, one on PostgreSQL speaking
// one chunk at a time (KOE_SYNTH_CONCURRENCY=1), and one on SQLite whose
// espeak-ng and Flite have no warm helpers (a process per chunk):
//
//   - koe: createGeneration (the job is queued) to the SUCCEEDED event (the
//     audio is stored), default format (WAV), one job worker
//     (KOE_JOB_WORKERS=1; its chunks spoken KOE_SYNTH_CONCURRENCY at a
//     time, one per core as shipped);
//   - alone: the engine's program once over the whole text, as its adapter
//     runs it, stdout read to the end; for a voice Koe gives a front end's
//     output (espeak-ng's Japanese), the program reads that output, and the
//     front end is timed on its own (frontend_ms).
//
// It reports medians: koe_chars/s and alone_chars/s (characters of the
// text, in runes, per second), koe/alone (their ratio: 1 is as fast as the
// engine alone), koe_first_ms (createGeneration to the first progress
// event: the first chunk spoken), alone_first_ms (start to the first audio
// byte after the WAV header on stdout), and where Koe's time goes:
// pickup_ms (to the RUNNING event: queued, picked up, split), speak_ms
// (RUNNING to every chunk spoken), tail_ms (every chunk spoken to
// SUCCEEDED: the WAV finished, stored and the row updated; from the
// operations whose all-spoken event was not folded into SUCCEEDED),
// chunks, and the CPU of engine processes per run, Koe's and alone
// (koe_engine_cpu_ms, alone_engine_cpu_ms: of exited processes only, so not
// of the warm ones of Festival and the helpers). ns/op is one of each.
func BenchmarkEngines(b *testing.B) {
	servers := []server{
		{"sqlite", storetest.SQLite, nil},
		{"postgres", storetest.Postgres, nil},
		// Chunks one after another: what chunking costs without the
		// parallelism that pays for it.
		{"postgres-synth=1", storetest.Postgres, map[string]string{"KOE_SYNTH_CONCURRENCY": "1"}},
		// espeak-ng and Flite without their warm helpers: a process per chunk.
		{"sqlite-no-helper", storetest.SQLite, map[string]string{"KOE_ESPEAK_HELPER": "koe-no-such-helper", "KOE_FLITE_HELPER": "koe-no-such-helper"}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			env := map[string]string{"KOE_JOB_WORKERS": "1"}
			maps.Copy(env, s.env)
			srv := bootWith(b, s.kind, env)
			// An operator: plan limits would measure the limiter.
			_, key := srv.NewUser(auth.RoleAdmin, "bench@example.com")
			c := srv.Client(key)
			updates := stamp(b, c.Subscribe(apptest.TransportWS, myUpdates, nil))
			for _, v := range benchVoices(b, srv) {
				lang := base(v.Language)
				for _, size := range []int{200, 2000} {
					text := benchText(b, lang, size)
					name := fmt.Sprintf("%s/%s/%s/chars=%d", v.Engine, lang, v.EngineVoiceID, utf8.RuneCountInString(text))
					b.Run(name, func(b *testing.B) {
						solo, ok := alone[v.Engine]
						if !ok {
							b.Skipf("no program runs %s alone here: add it to alone", v.Engine)
						}
						benchEngine(b, c, updates, v, text, solo(b, v))
					})
				}
			}
		})
	}
}

func benchEngine(b *testing.B, c *apptest.Client, updates <-chan update, v catalog.Voice, text string, solo soloist) {
	input := map[string]any{"input": map[string]any{"voiceId": v.ID, "text": text}}
	frontEnd := frontEnd(v)
	// One of each first: the first Japanese text loads the analyser's
	// dictionary, the first run of a program reads it from disk.
	followOne(b, c, updates, input)
	spoken := text
	if frontEnd != nil {
		spoken = frontEnd(text)
	}
	if _, _, err := solo.speak(spoken); err != nil {
		b.Fatal(err)
	}

	var (
		koe, koeFirst, pickup, speak, tail []time.Duration
		lone, loneFirst, front             []time.Duration
		koeCPU, loneCPU                    time.Duration
		chunks                             int
	)
	for b.Loop() {
		_, children0 := cpuTime()
		t := followOne(b, c, updates, input)
		_, children1 := cpuTime()
		koe, koeFirst, pickup = append(koe, t.succeeded), append(koeFirst, t.progressed), append(pickup, t.running)
		if t.spoken > 0 {
			speak, tail = append(speak, t.spoken-t.running), append(tail, t.succeeded-t.spoken)
		}
		chunks = t.chunks

		spoken := text
		if frontEnd != nil {
			start := time.Now()
			spoken = frontEnd(text)
			front = append(front, time.Since(start))
		}
		first, total, err := solo.speak(spoken)
		if err != nil {
			b.Fatal(err)
		}
		_, children2 := cpuTime()
		lone, loneFirst = append(lone, total), append(loneFirst, first)
		koeCPU, loneCPU = koeCPU+children1-children0, loneCPU+children2-children1
	}
	chars := float64(utf8.RuneCountInString(text))
	k, s := percentile(koe, 0.5), percentile(lone, 0.5)
	b.ReportMetric(chars/k.Seconds(), "koe_chars/s")
	b.ReportMetric(chars/s.Seconds(), "alone_chars/s")
	b.ReportMetric(s.Seconds()/k.Seconds(), "koe/alone")
	b.ReportMetric(ms(percentile(koeFirst, 0.5)), "koe_first_ms")
	b.ReportMetric(ms(percentile(loneFirst, 0.5)), "alone_first_ms")
	if frontEnd != nil {
		b.ReportMetric(ms(percentile(front, 0.5)), "frontend_ms")
	}
	b.ReportMetric(ms(percentile(pickup, 0.5)), "pickup_ms")
	if len(speak) > 0 {
		b.ReportMetric(ms(percentile(speak, 0.5)), "speak_ms")
		b.ReportMetric(ms(percentile(tail, 0.5)), "tail_ms")
	}
	b.ReportMetric(float64(chunks), "chunks")
	// A child's CPU counts once it has exited: warm processes (Festival's,
	// Koe's and this benchmark's) show none.
	if n := float64(len(koe)); koeCPU > 0 && loneCPU > 0 {
		b.ReportMetric(ms(koeCPU)/n, "koe_engine_cpu_ms")
		b.ReportMetric(ms(loneCPU)/n, "alone_engine_cpu_ms")
	}
}

// wavHeader is the size of the canonical WAV header engines write first.
const wavHeader = 44

// process runs a program per text, its audio read from stdout.
type process func(text string) *exec.Cmd

func (p process) speak(text string) (first, total time.Duration, err error) {
	cmd := p(text)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 64<<10)
	var read int
	for {
		n, err := out.Read(buf)
		read += n
		if first == 0 && read > wavHeader {
			first = time.Since(start)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w: %s", cmd.Path, err, stderr.String())
	}
	if first == 0 {
		return 0, 0, fmt.Errorf("%s wrote no audio: %s", cmd.Path, stderr.String())
	}
	return first, time.Since(start), nil
}

// festival is one `festival --pipe` with a voice loaded, fed Scheme on
// stdin; each text's WAV goes to a file, written when the text is done.
type festival struct {
	stdin io.Writer
	lines *bufio.Reader
	wav   string
}

func startFestival(b *testing.B, voice string) *festival {
	b.Helper()
	cmd := exec.Command("festival", "--pipe")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	f := &festival{stdin: stdin, lines: bufio.NewReader(stdout), wav: filepath.Join(b.TempDir(), "out.wav")}
	if err := f.eval("(voice_" + voice + ")"); err != nil {
		b.Fatal(err)
	}
	return f
}

// eval runs Scheme and waits until festival has done it.
func (f *festival) eval(scheme string) error {
	if _, err := io.WriteString(f.stdin, scheme+"\n(print \"bench-done\")(fflush nil)\n"); err != nil {
		return err
	}
	for {
		line, err := f.lines.ReadString('\n')
		if err != nil {
			return fmt.Errorf("festival: %w", err)
		}
		if strings.TrimSpace(line) == `"bench-done"` {
			return nil
		}
	}
}

func (f *festival) speak(text string) (first, total time.Duration, err error) {
	quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ").Replace(text) + `"`
	start := time.Now()
	if err := f.eval(fmt.Sprintf("(utt.save.wave (utt.synth (Utterance Text %s)) %q 'riff)", quoted, f.wav)); err != nil {
		return 0, 0, err
	}
	total = time.Since(start)
	if fi, err := os.Stat(f.wav); err != nil || fi.Size() <= wavHeader {
		return 0, 0, fmt.Errorf("festival wrote no audio: %v", err)
	}
	return total, total, nil
}

// benchVoices picks, for each engine of srv's catalog, one enabled voice of
// each language the benchmark has texts for: American English where the
// engine has it, else its first English voice by id; its first Japanese
// voice by id.
func benchVoices(b *testing.B, srv *apptest.Server) []catalog.Voice {
	b.Helper()
	var all []catalog.Voice
	if err := srv.DB().NewSelect().Model(&all).Where("enabled").Where("available").Scan(context.Background()); err != nil {
		b.Fatal(err)
	}
	american := func(v catalog.Voice) int {
		if v.Language == "en-US" {
			return 0
		}
		return 1
	}
	slices.SortFunc(all, func(x, y catalog.Voice) int {
		return cmp.Or(cmp.Compare(x.Engine, y.Engine), cmp.Compare(base(x.Language), base(y.Language)),
			cmp.Compare(american(x), american(y)), cmp.Compare(x.ID, y.ID))
	})
	var picked []catalog.Voice
	for _, v := range all {
		lang := base(v.Language)
		if lang != "en" && lang != "ja" {
			continue
		}
		if slices.ContainsFunc(picked, func(p catalog.Voice) bool { return p.Engine == v.Engine && base(p.Language) == lang }) {
			continue
		}
		picked = append(picked, v)
	}
	if len(picked) == 0 {
		b.Fatal("the catalog has no English or Japanese voice")
	}
	return picked
}

// benchText is testdata/<lang>-<size>.txt without its final line break.
func benchText(b *testing.B, lang string, size int) string {
	b.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("%s-%d.txt", lang, size)))
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSuffix(string(text), "\n")
}

// base is the language subtag of a BCP 47 tag, lower case.
func base(tag string) string {
	lang, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(lang)
}
