package tts

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Festival speaks English with the Festival program (Debian's festival)
// and its voices festvox-us-slt-hts and festvox-kallpc16k. A cold festival
// run takes about 2 s for "Hello world, this is Koe." with either voice; a
// warm process takes 0.07 s (HTS) or 0.01 s (diphone) for the same
// sentence (medians, 2 cores; TestFestivalSynthesize logs both), so
// processes stay alive and are fed through their REPL (festival --pipe),
// one piece of text at a time each: a pool of at most Workers processes,
// started when first needed, replaced when they die. Each process holds
// about 320 MB (its lexicon and voices); one idle for IdleTimeout is
// stopped, and Close stops them all. Its zero value is ready to use; it must not
// be copied after first use.
type Festival struct {
	// Binary is the festival program, "festival" when empty.
	Binary string
	// VoiceDir is festival's folder of voices, Debian's
	// /usr/share/festival/voices when empty.
	VoiceDir string
	// Workers is the most processes running at once, and so the most
	// pieces spoken at once; runtime.NumCPU() when zero.
	Workers int
	// IdleTimeout stops a process that long without a piece to speak;
	// DefaultIdleTimeout when zero.
	IdleTimeout time.Duration

	once sync.Once
	pool *warmPool[*festivalProcess]
}

var _ Synthesizer = (*Festival)(nil)

// festivalVoice is a voice Koe offers when festival's voice.list names it.
type festivalVoice struct {
	Voice
	rate int
	// params is the Scheme that selects the voice and applies p; it runs
	// before every piece, so no setting outlives its piece.
	params func(p Params) string
}

// festivalVoices are the voices of Debian's festvox packages worth
// offering; EngineVoiceID is festival's name, its voice_<name> function
// selects it.
var festivalVoices = []festivalVoice{
	{
		Voice: Voice{EngineVoiceID: "cmu_us_slt_arctic_hts", Name: "Slt (US English, Festival HTS)", Language: "en-US",
			LanguageName: "English", Gender: "FEMALE", Quality: QualityNatural, Tags: []string{"us", "hts", "festival"},
			Description: "CMU ARCTIC speaker slt, HTS statistical parametric voice (festvox-us-slt-hts); pitch cannot be changed"},
		rate: 32000,
		// The HTS engine takes its speed as -r and ignores both
		// Duration_Stretch and -fm, its pitch shift (checked: the audio is
		// byte for byte the same).
		params: func(p Params) string {
			return fmt.Sprintf(`(voice_cmu_us_slt_arctic_hts)(Parameter.set 'Duration_Stretch 1)`+
				`(set! hts_engine_params (append hts_engine_params (list (list "-r" %s))))`, schemeNumber(cmp.Or(p.Speed, 1)))
		},
	},
	{
		Voice: Voice{EngineVoiceID: "kal_diphone", Name: "Kal (US English, Festival)", Language: "en-US",
			LanguageName: "English", Gender: "MALE", Quality: QualityStandard, Tags: []string{"us", "diphone", "festival"},
			Description: "CMU speaker kal, diphone voice (festvox-kallpc16k)"},
		rate: 16000,
		// Pitch scales the mean and spread of the intonation model's
		// target, which voice_kal_diphone resets.
		params: func(p Params) string {
			return fmt.Sprintf(`(voice_kal_diphone)(Parameter.set 'Duration_Stretch %s)`+
				`(set! int_lr_params (mapcar (lambda (x) (if (member (car x) '(target_f0_mean target_f0_std))`+
				` (list (car x) (* %s (cadr x))) x)) int_lr_params))`,
				schemeNumber(1/cmp.Or(p.Speed, 1)), schemeNumber(semitones(p.Pitch)))
		},
	},
}

// festivalRunes is the longest piece of text given to festival at once,
// to bound what one request holds.
const festivalRunes = 1000

// Engine returns "festival".
func (f *Festival) Engine() string { return "festival" }

// Voices lists the voices of festivalVoices installed in VoiceDir, as
// festival's voice.list finds them: a folder <VoiceDir>/<language>/<name>.
// It starts no process, so a server that never speaks with Festival pays
// nothing for it.
func (f *Festival) Voices(context.Context) ([]Voice, error) {
	dir := cmp.Or(f.VoiceDir, "/usr/share/festival/voices")
	voices := []Voice{}
	for _, v := range festivalVoices {
		if found, _ := filepath.Glob(filepath.Join(dir, "*", v.EngineVoiceID)); len(found) > 0 {
			voices = append(voices, v.Voice)
		}
	}
	if len(voices) == 0 {
		return nil, fmt.Errorf("festival: none of our voices is in %s (Debian: festvox-us-slt-hts, festvox-kallpc16k)", dir)
	}
	return voices, nil
}

// Synthesize speaks text with the voice whose EngineVoiceID (festival's
// name, "kal_diphone") is given, at the voice's rate. The text is cut at
// sentence ends into pieces of at most festivalRunes; each is spoken by a
// process of the pool into a WAV file in $TMPDIR, which is read out to w as
// it is decoded and removed. The text is a Scheme string, escaped, so it is
// only ever spoken. Cancelling ctx kills the process speaking.
func (f *Festival) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	voices, err := f.Voices(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(voices, func(v Voice) bool { return v.EngineVoiceID == engineVoiceID }) {
		return fmt.Errorf("festival voice %q: %w", engineVoiceID, ErrUnknownVoice)
	}
	voice := festivalVoices[slices.IndexFunc(festivalVoices, func(v festivalVoice) bool { return v.EngineVoiceID == engineVoiceID })]
	return speakPieces(text, festivalRunes, voice.rate, w, func(piece string) error {
		return f.speak(ctx, voice, piece, p, w)
	})
}

// speak has a process of the pool write one piece to a file and streams
// the file to w.
func (f *Festival) speak(ctx context.Context, v festivalVoice, text string, p Params, w PCMWriter) error {
	out, err := os.CreateTemp("", "koe-festival-*.wav")
	if err != nil {
		return fmt.Errorf("festival: %w: %w", ErrTransient, err)
	}
	defer os.Remove(out.Name())
	_ = out.Close()
	_, err = f.eval(ctx, v.params(p)+
		fmt.Sprintf("(utt.save.wave (utt.synth (Utterance Text %s)) %s 'riff)", schemeString(text), schemeString(out.Name())))
	if err != nil {
		return err
	}
	// A Scheme error is only said on festival's stderr: the file is then
	// left empty, which copyWAV reports.
	wav, err := os.Open(out.Name())
	if err != nil {
		return fmt.Errorf("festival: %w: %w", ErrTransient, err)
	}
	defer wav.Close()
	return copyWAV("festival", wav, w)
}

// eval runs Scheme on a process of the pool and returns what it printed.
func (f *Festival) eval(ctx context.Context, scheme string) (out string, err error) {
	err = f.warm().do(ctx, func(proc *festivalProcess) error {
		out, err = proc.eval(ctx, scheme)
		return err
	})
	if err != nil {
		return "", failure(ctx, err)
	}
	return out, nil
}

// Close stops the idle processes; a process at work stops when its piece
// is done. Synthesize fails after Close.
func (f *Festival) Close() error {
	f.warm().close()
	return nil
}

// warm is f's pool of processes.
func (f *Festival) warm() *warmPool[*festivalProcess] {
	f.once.Do(func() {
		f.pool = &warmPool[*festivalProcess]{Engine: "festival", Start: f.start, Workers: f.Workers, IdleTimeout: f.IdleTimeout}
	})
	return f.pool
}

// festivalProcess is one festival --pipe reading Scheme on stdin.
type festivalProcess struct {
	*warmProcess
	// done is the line festival prints when it has run a request: a
	// random word, so nothing spoken can print it.
	done string
}

// start starts a process of the pool.
func (f *Festival) start() (*festivalProcess, error) {
	proc, err := startWarm(cmp.Or(f.Binary, "festival"), "--pipe")
	if err != nil {
		return nil, err
	}
	return &festivalProcess{warmProcess: proc, done: "koe-done-" + rand.Text()}, nil
}

// festivalOutput is the most a request may print that eval keeps.
const festivalOutput = 64 << 10

// eval sends Scheme and waits for the process to have run it, returning
// what it printed. Cancelling ctx kills the process; after an error the
// process is unfit for use.
func (p *festivalProcess) eval(ctx context.Context, scheme string) (string, error) {
	stop := context.AfterFunc(ctx, p.stop)
	defer stop()
	// stdout is a pipe, which festival buffers: fflush sends the marker.
	if _, err := io.WriteString(p.stdin, scheme+"\n(print \""+p.done+"\")(fflush nil)\n"); err != nil {
		return "", p.failed(ctx, "festival", err)
	}
	var out strings.Builder
	for {
		line, err := p.stdout.ReadString('\n')
		if err != nil {
			return "", p.failed(ctx, "festival", err)
		}
		if strings.TrimSpace(line) == `"`+p.done+`"` {
			if !stop() { // killed for ctx just now
				return "", p.failed(ctx, "festival", context.Cause(ctx))
			}
			return out.String(), nil
		}
		if out.Len() < festivalOutput {
			out.WriteString(line)
		}
	}
}

// schemeString is s as a Scheme string literal: festival's reader gives
// meaning to a backslash and ends the string at a quote, so both are
// escaped, and nothing in s can end the string.
func schemeString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// schemeNumber writes x as Scheme reads it, without an exponent.
func schemeNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// semitones is the frequency ratio of a shift by n semitones.
func semitones(n float64) float64 { return math.Pow(2, n/12) }
