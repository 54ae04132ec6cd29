package ja

import (
	"context"
	"strings"
	"sync"

	"github.com/koe-voice/koe/internal/tts"
)

// FrontEnd returns engine with Reading before every voice of it whose
// language is Japanese (ja, ja-JP…): the one place Japanese text is turned
// into kana for an engine that cannot read kanji (espeak-ng). Its other
// voices get the text unchanged. Engines that read Japanese themselves
// (Open JTalk, which has its own analyser and dictionary and reads
// numbers and counters with accents IPADIC's katakana would lose; neural
// servers, which read kanji in context) must not be wrapped.
//
// Each chunk of a generation is read on its own: tts.Split cuts Japanese
// at 。！？ before, and Reading keeps the marks, so the engine pauses there
// as before.
func FrontEnd(engine tts.Synthesizer) tts.Synthesizer {
	return &frontEnd{Synthesizer: engine}
}

type frontEnd struct {
	tts.Synthesizer

	mu sync.Mutex
	// japanese are the engine's Japanese voices by EngineVoiceID; nil
	// until its voices were listed (engines list the same voices for
	// the life of the process).
	japanese map[string]bool
}

// Synthesize reads text into kana first when the voice is Japanese.
func (f *frontEnd) Synthesize(ctx context.Context, engineVoiceID, text string, p tts.Params, w tts.PCMWriter) error {
	japanese, err := f.isJapanese(ctx, engineVoiceID)
	if err != nil {
		return err
	}
	if japanese {
		text = Reading(text)
	}
	return f.Synthesizer.Synthesize(ctx, engineVoiceID, text, p, w)
}

func (f *frontEnd) isJapanese(ctx context.Context, engineVoiceID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.japanese == nil {
		voices, err := f.Synthesizer.Voices(ctx)
		if err != nil {
			return false, err
		}
		f.japanese = map[string]bool{}
		for _, v := range voices {
			if japaneseTag(v.Language) {
				f.japanese[v.EngineVoiceID] = true
			}
		}
	}
	return f.japanese[engineVoiceID], nil
}

// japaneseTag reports whether a BCP 47 tag's language is Japanese.
func japaneseTag(tag string) bool {
	base, _, _ := strings.Cut(tag, "-")
	return strings.EqualFold(base, "ja")
}
