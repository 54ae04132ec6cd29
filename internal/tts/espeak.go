package tts

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Espeak speaks with espeak-ng: with one espeak-ng process per synthesis,
// or, when its Helper has a Program, through warm koe-espeak processes
// (cmd/koe-espeak: libespeak-ng linked into a program of ours), which
// spares each chunk the 25–45 ms of CPU an espeak-ng start costs. The
// speech is the same either way (TestEspeakHelperSoundsLikeEspeakNg). Its
// zero value is ready to use; it must not be copied after first use.
type Espeak struct {
	// Binary is the espeak-ng program, "espeak-ng" when empty. It lists
	// the voices, and speaks when the Helper has no Program.
	Binary string
	// Helper is koe-espeak (cmd/koe-espeak), when its Program is set.
	Helper Helper

	mu     sync.Mutex
	voices []Voice // cached: the installed voices do not change while we run
}

var _ Synthesizer = (*Espeak)(nil)

// espeakWPM is the words per minute espeak-ng speaks at by default, and
// the range it accepts.
const (
	espeakWPM    = 175
	espeakMinWPM = 80
	espeakMaxWPM = 450
)

// Engine returns "espeak-ng".
func (e *Espeak) Engine() string { return "espeak-ng" }

// Voices lists the installed voices from espeak-ng --voices, MBROLA voices
// excepted: their databases are separate packages we do not install; and
// so are the voices of a language BCP 47 cannot name (see espeakLanguage).
// The first successful answer is kept for the life of e.
func (e *Espeak) Voices(ctx context.Context) ([]Voice, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.voices == nil {
		out, err := run(ctx, nil, espeakEnv, e.binary(), "--voices")
		if err != nil {
			return nil, failure(ctx, err)
		}
		e.voices = parseEspeakVoices(string(out))
		if len(e.voices) == 0 {
			return nil, fmt.Errorf("espeak-ng: --voices listed no voices: %w", ErrTransient)
		}
	}
	return slices.Clone(e.voices), nil
}

// espeakRate is the sample rate of espeak-ng's output.
const espeakRate = 22050

// Synthesize speaks text with the voice whose EngineVoiceID (the voice file,
// "gmw/en-US") is given, at 22,050 Hz. Text is spoken literally: markup is
// not interpreted. The audio is read from espeak-ng's stdout and written to
// w as it comes; an error of w kills espeak-ng.
func (e *Espeak) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	voices, err := e.Voices(ctx)
	if err != nil {
		return err
	}
	// Checking the list first also keeps arbitrary paths away from -v,
	// which espeak-ng would open as voice files.
	if !slices.ContainsFunc(voices, func(v Voice) bool { return v.EngineVoiceID == engineVoiceID }) {
		return fmt.Errorf("espeak-ng voice %q: %w", engineVoiceID, ErrUnknownVoice)
	}
	text = strings.Map(func(r rune) rune {
		// A NUL ends espeak-ng's input early; other controls are read
		// out or garble the result.
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return ' '
		}
		return r
	}, text)
	if strings.TrimSpace(text) == "" {
		// espeak-ng writes nothing at all, not even a header, for empty input.
		return w.WritePCM(PCM{SampleRate: espeakRate})
	}
	speed := cmp.Or(p.Speed, 1)
	wpm := min(max(int(math.Round(espeakWPM*speed)), espeakMinWPM), espeakMaxWPM)
	// espeak-ng's pitch runs 0..99 around 50; one semitone per 50/12 steps
	// maps -12..12 onto the full range. The scale is not truly logarithmic,
	// so this is an approximation.
	pitch := min(max(int(math.Round(50+p.Pitch*50/12)), 0), 99)
	if e.Helper.Program != "" {
		return e.Helper.speak(ctx, espeakRequest{Voice: engineVoiceID, Rate: wpm, Pitch: pitch, Text: text}, w)
	}
	// The text goes on stdin, never in argv: it may start with "-" and be
	// longer than the argument limit. -b 1 reads it as UTF-8; without -m,
	// SSML and other markup are spoken as written.
	return pipeWAV(ctx, strings.NewReader(text), espeakEnv, w, e.binary(), "--stdout", "-b", "1",
		"-v", engineVoiceID, "-s", strconv.Itoa(wpm), "-p", strconv.Itoa(pitch))
}

// espeakEnv is added to espeak-ng's environment. espeak-ng connects to
// PulseAudio even when it only writes to stdout, and when $HOME has no link
// to a pulse runtime directory libpulse creates a new $TMPDIR/pulse-XXXX on
// every run and never removes it. Pointing PULSE_SERVER at something that
// is not a server makes libpulse give up before it creates anything.
var espeakEnv = []string{"PULSE_SERVER=unix:/dev/null"}

func (e *Espeak) binary() string { return cmp.Or(e.Binary, "espeak-ng") }

// espeakRequest is what koe-espeak is asked to speak.
type espeakRequest struct {
	Voice string `json:"voice"`
	Rate  int    `json:"rate"`  // words per minute
	Pitch int    `json:"pitch"` // 0–99
	Text  string `json:"text"`
}

// parseEspeakVoices reads the table espeak-ng --voices prints:
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  en-us           --/M      English_(America)  gmw/en-US            (en 2)
//
// Names use "_" for spaces, so the first five columns split on whitespace.
func parseEspeakVoices(out string) []Voice {
	var voices []Voice
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] == "Pty" || strings.HasPrefix(f[4], "mb/") {
			continue
		}
		rawLang, ageGender, name, file := f[1], f[2], f[3], f[4]
		lang, ok := espeakLanguage(rawLang)
		if !ok {
			continue
		}
		v := Voice{
			EngineVoiceID: file,
			Name:          strings.TrimSpace(strings.ReplaceAll(name, "_", " ")),
			Language:      lang,
			LanguageName:  languageName(lang, name),
			Quality:       QualityBasic,
		}
		switch {
		case strings.HasSuffix(ageGender, "/M"):
			v.Gender = "MALE"
		case strings.HasSuffix(ageGender, "/F"):
			v.Gender = "FEMALE"
		}
		// Subtags after the base language tell dialects apart: "us",
		// "scotland", "rp", "latn", "pinyin".
		for _, sub := range strings.Split(lang, "-")[1:] {
			if sub != "x" {
				v.Tags = append(v.Tags, strings.ToLower(sub))
			}
		}
		if dir := path.Dir(file); dir != "." {
			v.Tags = append(v.Tags, "family:"+dir)
		}
		voices = append(voices, v)
	}
	return voices
}

// languageName is the English name of lang's base language, or, for the
// constructed and private languages CLDR does not know, the espeak-ng voice
// name up to its parenthesised detail ("Lang_Belta" → "Lang Belta").
func languageName(lang, voiceName string) string {
	if tag, err := language.Parse(lang); err == nil {
		base, _ := tag.Base()
		if n := display.English.Languages().Name(base); n != "" {
			return n
		}
	}
	name, _, _ := strings.Cut(voiceName, "_(")
	return strings.TrimSpace(strings.ReplaceAll(name, "_", " "))
}

// espeakTags are espeak-ng's language codes that are no BCP 47 language,
// by the tag that names the same language.
var espeakTags = map[string]string{
	"piqd": "tlh", // Klingon: espeak-ng names it after its script, pIqaD
}

// espeakLanguage is the canonical BCP 47 tag of an espeak-ng language code.
// Subtags x/text rejects after the language ("nyc" in "en-us-nyc" is too
// short to be a variant, "Qaaa" in "chr-US-Qaaa-x-west" stands after the
// region) move into the private-use part, which keeps them as labels:
// "en-US-x-nyc", "chr-US-x-qaaa-west". A language that has no BCP 47 code
// ("py", the invented Pyash) is not offered: false.
func espeakLanguage(code string) (string, bool) {
	code = strings.ToLower(code)
	if t, ok := espeakTags[code]; ok {
		code = t
	}
	public, private, _ := strings.Cut(code, "-x-")
	subtags := strings.Split(public, "-")
	kept := []string{subtags[0]}
	var moved []string
	for _, s := range subtags[1:] {
		if _, err := language.Parse(strings.Join(append(kept, s), "-")); err == nil {
			kept = append(kept, s)
		} else {
			moved = append(moved, s)
		}
	}
	if private != "" {
		moved = append(moved, private)
	}
	tag := strings.Join(kept, "-")
	if len(moved) > 0 {
		tag += "-x-" + strings.Join(moved, "-")
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", false
	}
	return t.String(), true
}
