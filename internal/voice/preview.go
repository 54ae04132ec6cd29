package voice

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"gocloud.dev/blob"
	"golang.org/x/sync/singleflight"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/tts"
)

// samples are what previews say, by base language. Other languages count to
// five, which every engine speaks in the voice's own language.
var samples = map[string]string{
	"en":  "Hello! This is how I sound. Koe turns your text into speech.",
	"ja":  "こんにちは。これが私の声です。Koeは、漢字も数字も、日本語として読み上げます。",
	"cmn": "你好！这是我的声音。",
	"yue": "你好！呢個係我嘅聲音。",
	"ko":  "안녕하세요! 제 목소리는 이렇습니다.",
	"de":  "Hallo! So klingt meine Stimme.",
	"fr":  "Bonjour ! Voici ma voix.",
	"es":  "¡Hola! Así suena mi voz.",
	"pt":  "Olá! Esta é a minha voz.",
	"it":  "Ciao! Questa è la mia voce.",
	"nl":  "Hallo! Zo klinkt mijn stem.",
	"ru":  "Привет! Так звучит мой голос.",
	"pl":  "Cześć! Tak brzmi mój głos.",
	"sv":  "Hej! Så här låter min röst.",
	"tr":  "Merhaba! Sesim böyle.",
	"ar":  "مرحبا! هذا صوتي.",
	"hi":  "नमस्ते! यह मेरी आवाज़ है।",
	"vi":  "Xin chào! Đây là giọng nói của tôi.",
	"id":  "Halo! Inilah suara saya.",
	"uk":  "Привіт! Так звучить мій голос.",
}

const countSample = "1, 2, 3, 4, 5."

func sampleText(language string) string {
	base, _, _ := strings.Cut(language, "-")
	if s, ok := samples[strings.ToLower(base)]; ok {
		return s
	}
	if language == "mul" {
		return samples["en"]
	}
	return countSample
}

// Previews makes each voice's sample once and keeps it in the blob store.
type Previews struct {
	catalog *Catalog
	bucket  *blob.Bucket
	encoder tts.Encoder
	group   singleflight.Group
	// sample is what a voice of a language says.
	sample func(language string) string
}

// NewPreviews returns previews of catalog's voices stored in bucket.
func NewPreviews(catalog *Catalog, bucket *blob.Bucket, encoder tts.Encoder) *Previews {
	return &Previews{catalog: catalog, bucket: bucket, encoder: encoder, sample: sampleText}
}

// format is MP3 when lame is here (small), else WAV.
func (p *Previews) format() tts.Format {
	if p.encoder.Available(tts.FormatMP3) == nil {
		return tts.FormatMP3
	}
	return tts.FormatWAV
}

// Key returns the blob key of a voice's preview, making it first if needed.
// The key holds a digest of the sample text, so a new text (the Japanese
// sample once said "Chinese letter" for every kanji) is a new preview, not
// the old one served from the bucket. Concurrent first requests for one
// voice synthesize it once. A voice
// switched off (or whose engine is gone) has no preview: NOT_FOUND, as
// voice(id:) answers null for it, and previews are public and cached.
func (p *Previews) Key(ctx context.Context, id string) (string, error) {
	v, err := p.catalog.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if !v.Usable() {
		return "", apperror.New(apperror.NotFound, "no voice %s", id)
	}
	format, text := p.format(), p.sample(v.Language)
	digest := sha256.Sum256([]byte(text))
	key := fmt.Sprintf("previews/%s-%x.%s", strings.NewReplacer(":", "/").Replace(v.ID), digest[:6], strings.ToLower(string(format)))
	if ok, err := p.bucket.Exists(ctx, key); err != nil || ok {
		return key, err
	}
	_, err, _ = p.group.Do(key, func() (any, error) {
		// Detached from the caller: a client that goes away should not waste
		// the work another caller is waiting for.
		ctx := context.WithoutCancel(ctx)
		// A caller that looked before an earlier flight wrote the file must
		// not make it again.
		if ok, err := p.bucket.Exists(ctx, key); err != nil || ok {
			return nil, err
		}
		engine, ok := p.catalog.Engine(v)
		if !ok {
			return nil, fmt.Errorf("preview %s: engine %s is not configured", v.ID, v.Engine)
		}
		pcm, err := tts.Record(ctx, engine, v.EngineVoiceID, text, tts.Params{Speed: 1})
		if err != nil {
			return nil, fmt.Errorf("preview %s: %w", v.ID, err)
		}
		enc, err := p.encoder.Encode(ctx, pcm, format)
		if err != nil {
			return nil, fmt.Errorf("preview %s: %w", v.ID, err)
		}
		err = p.bucket.WriteAll(ctx, key, enc.Data, &blob.WriterOptions{ContentType: enc.ContentType})
		return nil, err
	})
	if err != nil {
		return "", err
	}
	return key, nil
}
