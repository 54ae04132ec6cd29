package tts

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// OpenJTalk speaks Japanese with the open_jtalk program (Debian's
// open-jtalk) and HTS voice files (.htsvoice), one process per piece of
// text. Open JTalk reads kanji, numbers and counters itself, with its MeCab
// dictionary (open-jtalk-mecab-naist-jdic), so its voices are given the
// text as written. Its zero value is not usable: set Dictionary and
// VoiceDir. It must not be copied after first use.
type OpenJTalk struct {
	// Binary is the open_jtalk program, "open_jtalk" when empty.
	Binary string
	// Dictionary is the folder of Open JTalk's MeCab dictionary (sys.dic).
	Dictionary string
	// VoiceDir is the folder of .htsvoice files, each a voice; files one
	// folder down count too (Debian's hts-voice packages install
	// /usr/share/hts-voice/<voice>/<voice>.htsvoice).
	VoiceDir string

	mu     sync.Mutex
	voices []Voice
	files  map[string]htsVoice // by EngineVoiceID
}

var _ Synthesizer = (*OpenJTalk)(nil)

// htsVoice is a voice file and the sample rate it speaks at.
type htsVoice struct {
	path string
	rate int
}

// Engine returns "open-jtalk".
func (o *OpenJTalk) Engine() string { return "open-jtalk" }

// Voices lists the .htsvoice files of VoiceDir, by file name without the
// extension ("nitech_jp_atr503_m001"); of two files with one name, the
// first in path order counts. The first successful answer is kept for the
// life of o.
func (o *OpenJTalk) Voices(context.Context) ([]Voice, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return nil, err
	}
	return slices.Clone(o.voices), nil
}

// voice returns the file of a voice Voices lists.
func (o *OpenJTalk) voice(engineVoiceID string) (htsVoice, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return htsVoice{}, err
	}
	v, ok := o.files[engineVoiceID]
	if !ok {
		return htsVoice{}, fmt.Errorf("open_jtalk voice %q: %w", engineVoiceID, ErrUnknownVoice)
	}
	return v, nil
}

// load lists the voice files once.
func (o *OpenJTalk) load() error {
	if o.files != nil {
		return nil
	}
	entries, err := os.ReadDir(o.VoiceDir)
	if err != nil {
		return fmt.Errorf("open_jtalk voices: %w", err)
	}
	var paths []string
	for _, e := range entries {
		p := filepath.Join(o.VoiceDir, e.Name())
		if !e.IsDir() {
			paths = append(paths, p)
			continue
		}
		sub, err := os.ReadDir(p)
		if err != nil {
			continue // a folder we may not read holds no voice of ours
		}
		for _, s := range sub {
			paths = append(paths, filepath.Join(p, s.Name()))
		}
	}
	slices.Sort(paths)
	voices, files := []Voice{}, map[string]htsVoice{}
	for _, p := range paths {
		id, ok := strings.CutSuffix(filepath.Base(p), ".htsvoice")
		if _, dup := files[id]; !ok || dup {
			continue
		}
		rate, err := htsSampleRate(p)
		if err != nil {
			return fmt.Errorf("open_jtalk voice %s: %w", p, err)
		}
		files[id] = htsVoice{path: p, rate: rate}
		voices = append(voices, Voice{
			EngineVoiceID: id, Name: "Japanese (" + strings.NewReplacer("_", " ", "-", " ").Replace(id) + ")",
			Language: "ja", LanguageName: "Japanese", Description: "Open JTalk HTS voice " + filepath.Base(p),
			Tags: []string{"hts", "open-jtalk"}, Quality: QualityNatural,
		})
	}
	o.voices, o.files = voices, files
	return nil
}

// htsSampleRate reads SAMPLING_FREQUENCY from a voice file's [GLOBAL]
// header, 48,000 Hz when it says none (the rate of the HTS voices Open
// JTalk publishes).
func htsSampleRate(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for lines.Scan() {
		line := lines.Text()
		if line == "[DATA]" {
			break
		}
		if v, ok := strings.CutPrefix(line, "SAMPLING_FREQUENCY:"); ok {
			rate, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || rate <= 0 {
				return 0, fmt.Errorf("SAMPLING_FREQUENCY %q is not a sample rate", v)
			}
			return rate, nil
		}
	}
	return 48000, nil
}

// openJTalkRunes is the longest piece of text given to one open_jtalk
// run: it reads one line of at most 1,022 bytes (fgets into a 1,024-byte
// buffer), and 250 runes of UTF-8 are at most 1,000 bytes.
const openJTalkRunes = 250

// Synthesize speaks text with the voice whose EngineVoiceID (the voice
// file's name) is given, at the voice file's sample rate. open_jtalk reads
// one line and writes a whole WAV file only when done, so the text is cut
// at sentence ends into pieces that fit its line, each spoken by a run that
// writes a file in $TMPDIR, which is read out to w as it is decoded and
// removed.
func (o *OpenJTalk) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	voice, err := o.voice(engineVoiceID)
	if err != nil {
		return err
	}
	// open_jtalk reads one line (speakPieces makes line breaks spaces).
	return speakPieces(text, openJTalkRunes, voice.rate, w, func(piece string) error {
		return o.speak(ctx, voice.path, piece, p, w)
	})
}

// speak runs open_jtalk once, the text on stdin, and streams the WAV file
// it writes to w.
func (o *OpenJTalk) speak(ctx context.Context, voicePath, text string, p Params, w PCMWriter) error {
	out, err := os.CreateTemp("", "koe-open-jtalk-*.wav")
	if err != nil {
		return fmt.Errorf("open_jtalk: %w: %w", ErrTransient, err)
	}
	defer os.Remove(out.Name())
	_ = out.Close()
	// -r is the speed (1 normal), -fm the pitch shift in half-tones:
	// both mean what Params does.
	_, err = run(ctx, []byte(text+"\n"), nil, cmp.Or(o.Binary, "open_jtalk"),
		"-x", o.Dictionary, "-m", voicePath, "-ow", out.Name(),
		"-r", strconv.FormatFloat(cmp.Or(p.Speed, 1), 'f', -1, 64), "-fm", strconv.FormatFloat(p.Pitch, 'f', -1, 64))
	if err != nil {
		return failure(ctx, err)
	}
	wav, err := os.Open(out.Name())
	if err != nil {
		return fmt.Errorf("open_jtalk: %w: %w", ErrTransient, err)
	}
	defer wav.Close()
	return copyWAV("open_jtalk", wav, w)
}
