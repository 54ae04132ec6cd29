package tts

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Flite speaks English with CMU's Flite: with one flite process per piece
// of text, or, when its Helper has a Program, through warm koe-flite
// processes (cmd/koe-flite: libflite and its voices linked into a program
// of ours), which spares each piece the start, about 14 ms of CPU. Its
// zero value is ready to use; it must not be copied after first use.
type Flite struct {
	// Binary is the flite program, "flite" when empty. It lists the
	// voices, and speaks when the Helper has no Program.
	Binary string
	// Helper is koe-flite (cmd/koe-flite), when its Program is set.
	Helper Helper

	mu     sync.Mutex
	voices []Voice // cached: the compiled-in voices do not change
}

var _ Synthesizer = (*Flite)(nil)

// fliteVoice is a voice Koe offers when flite -lv lists it.
type fliteVoice struct {
	Voice
	// f0Mean is the voice's mean pitch in Hz, measured on its output:
	// Flite shifts pitch by setting a new mean (int_f0_target_mean), not
	// by an offset. Zero: the voice ignores that setting (rms).
	f0Mean float64
}

// fliteVoices are Debian's flite voices worth offering. kal16 is the kal
// diphone voice at 16 kHz: the 8 kHz kal is the same voice, worse, and
// awb_time only speaks the time of day.
var fliteVoices = []fliteVoice{
	{Voice: Voice{EngineVoiceID: "slt", Name: "Slt (US English, Flite)", Language: "en-US", LanguageName: "English", Quality: QualityStandard, Gender: "FEMALE",
		Description: "CMU ARCTIC speaker slt, clustergen voice", Tags: []string{"us", "flite"}}, f0Mean: 163},
	{Voice: Voice{EngineVoiceID: "rms", Name: "Rms (US English, Flite)", Language: "en-US", LanguageName: "English", Quality: QualityStandard, Gender: "MALE",
		Description: "CMU ARCTIC speaker rms, clustergen voice; pitch cannot be changed", Tags: []string{"us", "flite"}}},
	{Voice: Voice{EngineVoiceID: "awb", Name: "Awb (Scottish English, Flite)", Language: "en-GB", LanguageName: "English", Quality: QualityStandard, Gender: "MALE",
		Description: "CMU ARCTIC speaker awb, Scottish English, clustergen voice", Tags: []string{"gb", "scotland", "flite"}}, f0Mean: 121},
	{Voice: Voice{EngineVoiceID: "kal16", Name: "Kal (US English, Flite)", Language: "en-US", LanguageName: "English", Quality: QualityStandard, Gender: "MALE",
		Description: "CMU speaker kal, diphone voice", Tags: []string{"us", "diphone", "flite"}}, f0Mean: 101},
}

// fliteRunes is the longest piece of text given to one flite run: the
// text is an argument, and Linux caps one argument at 128 KiB.
const fliteRunes = 4000

// Engine returns "flite".
func (f *Flite) Engine() string { return "flite" }

// Voices lists the voices of fliteVoices that flite -lv names. The first
// successful answer is kept for the life of f.
func (f *Flite) Voices(ctx context.Context) ([]Voice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.voices == nil {
		out, err := run(ctx, nil, nil, f.binary(), "-lv")
		if err != nil {
			return nil, failure(ctx, err)
		}
		// "Voices available: kal awb_time kal16 awb rms slt "
		_, names, _ := strings.Cut(string(out), ":")
		installed := strings.Fields(names)
		voices := []Voice{}
		for _, v := range fliteVoices {
			if slices.Contains(installed, v.EngineVoiceID) {
				voices = append(voices, v.Voice)
			}
		}
		if len(voices) == 0 {
			return nil, fmt.Errorf("flite: -lv listed none of our voices: %q", strings.TrimSpace(string(out)))
		}
		f.voices = voices
	}
	return slices.Clone(f.voices), nil
}

// Synthesize speaks text with the voice whose EngineVoiceID (flite's voice
// name, "slt") is given, at the voice's rate (16,000 Hz). flite writes the
// whole WAV file to stdout when a piece is done; it is decoded to w as it
// is read. The text is the argument of -t, so it is never read as an
// option, and spoken literally (no SSML); koe-flite gets it as a JSON
// string and speaks it as flite -t does.
func (f *Flite) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	voices, err := f.Voices(ctx)
	if err != nil {
		return err
	}
	// Only voices of the list: -voice also takes a path or URL to load.
	if !slices.ContainsFunc(voices, func(v Voice) bool { return v.EngineVoiceID == engineVoiceID }) {
		return fmt.Errorf("flite voice %q: %w", engineVoiceID, ErrUnknownVoice)
	}
	voice := fliteVoices[slices.IndexFunc(fliteVoices, func(v fliteVoice) bool { return v.EngineVoiceID == engineVoiceID })]
	stretch := 1 / cmp.Or(p.Speed, 1)
	var mean float64 // 0: the voice's own
	if p.Pitch != 0 && voice.f0Mean != 0 {
		mean = math.Round(voice.f0Mean*semitones(p.Pitch)*10) / 10
	}
	if f.Helper.Program != "" {
		return speakPieces(text, fliteRunes, fliteRate, w, func(piece string) error {
			return f.Helper.speak(ctx, fliteRequest{Voice: engineVoiceID, DurationStretch: stretch, F0Mean: mean, Text: piece}, w)
		})
	}
	args := []string{"-voice", engineVoiceID, "-o", "/dev/stdout", "--setf", "duration_stretch=" + strconv.FormatFloat(stretch, 'f', -1, 64)}
	if mean != 0 {
		args = append(args, "--setf", "int_f0_target_mean="+strconv.FormatFloat(mean, 'f', -1, 64))
	}
	return speakPieces(text, fliteRunes, fliteRate, w, func(piece string) error {
		return pipeWAV(ctx, strings.NewReader(""), nil, w, f.binary(), slices.Concat(args, []string{"-t", piece})...)
	})
}

// fliteRequest is what koe-flite is asked to speak.
type fliteRequest struct {
	Voice           string  `json:"voice"`
	DurationStretch float64 `json:"duration_stretch"`
	F0Mean          float64 `json:"f0_mean"` // Hz; 0: the voice's own
	Text            string  `json:"text"`
}

// fliteRate is the sample rate of the voices Koe offers.
const fliteRate = 16000

func (f *Flite) binary() string { return cmp.Or(f.Binary, "flite") }
