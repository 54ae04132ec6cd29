package tts

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OpenAI speaks through POST /v1/audio/speech on OpenAI or any server that
// copies its API.
type OpenAI struct {
	// BaseURL is the server without the /v1 path, "https://api.openai.com"
	// when empty.
	BaseURL string
	// APIKey is sent as a bearer token when set.
	APIKey string
	// Model is the speech model, "tts-1" when empty.
	Model string
	// VoiceNames are the voices the server knows, OpenAI's six when empty.
	// (A field cannot share the name of the Voices method.)
	VoiceNames []string
	// HTTPClient sends the requests; when nil, a client whose requests
	// time out after Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request, the whole answer read (DefaultOpenAITimeout
	// when zero); it applies when HTTPClient is nil.
	Timeout time.Duration
	// MaxResponseBytes bounds one answer (DefaultOpenAIMaxResponse when zero).
	MaxResponseBytes int64
}

// Bounds of one request to an OpenAI-compatible server: a chunk of text is
// at most a few minutes of speech (2,000 runes), which such servers make in
// well under the timeout, and 256 MiB is about 93 minutes of 24 kHz audio.
const (
	DefaultOpenAITimeout     = 5 * time.Minute
	DefaultOpenAIMaxResponse = 256 << 20
)

var _ Synthesizer = (*OpenAI)(nil)

// openAIVoices are the voices of OpenAI's tts-1 models.
var openAIVoices = []string{"alloy", "echo", "fable", "onyx", "nova", "shimmer"}

// openAIRate is the sample rate of OpenAI's "pcm" response format.
const openAIRate = 24000

// Engine returns "openai".
func (o *OpenAI) Engine() string { return "openai" }

// Voices lists the configured voices. OpenAI's voices speak whatever
// language the text is in, so each is "mul" (BCP 47 for several
// languages), and their gender is not published.
func (o *OpenAI) Voices(context.Context) ([]Voice, error) {
	var voices []Voice
	for _, name := range o.voiceNames() {
		if name == "" {
			continue
		}
		voices = append(voices, Voice{
			EngineVoiceID: name,
			Name:          strings.ToUpper(name[:1]) + name[1:],
			Language:      "mul",
			LanguageName:  "Multiple languages",
			Gender:        "NEUTRAL",
			Tags:          []string{"multilingual"},
			Quality:       QualityNeural,
		})
	}
	return voices, nil
}

func (o *OpenAI) voiceNames() []string {
	if len(o.VoiceNames) == 0 {
		return openAIVoices
	}
	return o.VoiceNames
}

// Synthesize asks the server for raw 24 kHz PCM, or takes a WAV file when
// the server answers with one, and writes the audio to w as the answer
// arrives. The API has no pitch control, so p.Pitch is ignored; p.Speed is
// sent, clamped to the API's 0.25..4.
func (o *OpenAI) Synthesize(ctx context.Context, engineVoiceID, text string, p Params, w PCMWriter) error {
	if !slices.Contains(o.voiceNames(), engineVoiceID) {
		return fmt.Errorf("openai voice %q: %w", engineVoiceID, ErrUnknownVoice)
	}
	if strings.TrimSpace(text) == "" {
		// The API rejects empty input; there is nothing to say.
		return w.WritePCM(PCM{SampleRate: openAIRate})
	}
	body, err := json.Marshal(map[string]any{
		"model":           cmp.Or(o.Model, "tts-1"),
		"input":           text,
		"voice":           engineVoiceID,
		"response_format": "pcm",
		"speed":           min(max(cmp.Or(p.Speed, 1), 0.25), 4),
	})
	if err != nil {
		return fmt.Errorf("openai: %w", err)
	}
	url := strings.TrimSuffix(cmp.Or(o.BaseURL, "https://api.openai.com"), "/") + "/v1/audio/speech"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openai: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: cmp.Or(o.Timeout, DefaultOpenAITimeout)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("openai: %w", failure(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return statusError(resp)
	}
	d := rawDecoder(w, openAIRate)
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "audio/wav" || ct == "audio/x-wav" || ct == "audio/wave" {
		d = wavDecoder(w)
	}
	limit := cmp.Or(o.MaxResponseBytes, DefaultOpenAIMaxResponse)
	decode := &recordingWriter{w: d}
	n, err := io.CopyBuffer(decode, io.LimitReader(resp.Body, limit+1), make([]byte, 32<<10))
	switch {
	case d.sinkErr() != nil:
		return d.sinkErr()
	case decode.err != nil:
		return fmt.Errorf("openai: %w", decode.err)
	case err != nil:
		return fmt.Errorf("openai: %w", failure(ctx, err))
	case n > limit:
		return fmt.Errorf("openai: the answer is longer than %d bytes", limit)
	}
	if err := d.finish(); err != nil {
		return fmt.Errorf("openai: %w", err)
	}
	return nil
}

// statusError turns a non-200 answer into an error carrying the server's
// message. Rate limits, timeouts and 5xx are transient; other 4xx mean the
// request itself is wrong.
func statusError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := strings.TrimSpace(string(raw))
	var apiErr struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &apiErr) == nil && apiErr.Error.Message != "" {
		msg = apiErr.Error.Message
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500 {
		return fmt.Errorf("openai: %s: %s: %w", resp.Status, truncate(msg, 300), ErrTransient)
	}
	return fmt.Errorf("openai: %s: %s", resp.Status, truncate(msg, 300))
}
