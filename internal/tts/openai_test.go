package tts

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// speechRequest is the body of POST /v1/audio/speech.
type speechRequest struct {
	Model          string  `json:"model"`
	Input          string  `json:"input"`
	Voice          string  `json:"voice"`
	ResponseFormat string  `json:"response_format"`
	Speed          float64 `json:"speed"`
}

// speechServer implements OpenAI's speech endpoint: it checks the request
// as OpenAI does and answers with reply, after recording the request.
func speechServer(t *testing.T, reply http.HandlerFunc) (*httptest.Server, <-chan speechRequest) {
	t.Helper()
	requests := make(chan speechRequest, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/speech" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error"}}`))
			return
		}
		var req speechRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		requests <- req
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

// rawPCM writes samples as OpenAI's "pcm" format does.
func rawPCM(samples ...int16) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/pcm")
		for _, s := range samples {
			_ = binary.Write(w, binary.LittleEndian, s)
		}
	}
}

func TestOpenAISynthesize(t *testing.T) {
	t.Parallel()
	srv, requests := speechServer(t, rawPCM(1, -2, 300))
	o := &OpenAI{BaseURL: srv.URL + "/", APIKey: "sk-test", Model: "gpt-4o-mini-tts"}

	pcm, err := Record(t.Context(), o, "nova", "-Hello <b>world</b>", Params{Speed: 9, Pitch: 5})
	require.NoError(t, err)
	require.Equal(t, PCM{SampleRate: 24000, Samples: []int16{1, -2, 300}}, pcm)
	require.Equal(t, speechRequest{
		Model:          "gpt-4o-mini-tts",
		Input:          "-Hello <b>world</b>",
		Voice:          "nova",
		ResponseFormat: "pcm",
		Speed:          4, // clamped to the API's range
	}, <-requests)

	_, err = Record(t.Context(), &OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}, "alloy", "Hi", Params{})
	require.NoError(t, err)
	require.Equal(t, speechRequest{Model: "tts-1", Input: "Hi", Voice: "alloy", ResponseFormat: "pcm", Speed: 1}, <-requests)
}

func TestOpenAIWAVAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := speechServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/wav; charset=binary")
		// Streamed, so the sizes are placeholders, as OpenAI's are.
		b := EncodeWAV(PCM{SampleRate: 24000, Samples: []int16{7, 8, 9}})
		binary.LittleEndian.PutUint32(b[40:], 0xFFFFFFFF)
		_, _ = w.Write(b)
	})
	pcm, err := Record(t.Context(), &OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}, "echo", "Hi", Params{})
	require.NoError(t, err)
	require.Equal(t, PCM{SampleRate: 24000, Samples: []int16{7, 8, 9}}, pcm)
}

func TestOpenAIErrors(t *testing.T) {
	t.Parallel()
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name          string
		reply         http.HandlerFunc
		baseURL       string // instead of the test server
		apiKey        string
		voice         string
		wantTransient bool
		wantErr       string
	}{
		{name: "rate limited", reply: status(429, `{"error":{"message":"Rate limit reached"}}`), wantTransient: true, wantErr: "429 Too Many Requests: Rate limit reached"},
		{name: "server error", reply: status(500, "upstream exploded"), wantTransient: true, wantErr: "500 Internal Server Error: upstream exploded"},
		{name: "unavailable", reply: status(503, ""), wantTransient: true, wantErr: "503 Service Unavailable"},
		{name: "bad key", apiKey: "sk-wrong", wantErr: "401 Unauthorized: Incorrect API key provided."},
		{name: "bad request", reply: status(400, `{"error":{"message":"Input too long"}}`), wantErr: "400 Bad Request: Input too long"},
		{name: "long message truncated", reply: status(400, strings.Repeat("x", 5000)), wantErr: strings.Repeat("x", 300) + "…"},
		{name: "network", baseURL: closed.URL, wantTransient: true, wantErr: "connect"},
		{name: "unknown voice", voice: "brian", wantErr: "unknown voice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := speechServer(t, tt.reply)
			o := &OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}
			if tt.baseURL != "" {
				o.BaseURL = tt.baseURL
			}
			if tt.apiKey != "" {
				o.APIKey = tt.apiKey
			}
			voice := "alloy"
			if tt.voice != "" {
				voice = tt.voice
			}
			_, err := Record(t.Context(), o, voice, "Hello", Params{})
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.wantTransient, errors.Is(err, ErrTransient), "transient: %v", err)
			require.LessOrEqual(t, len(err.Error()), 400)
		})
	}
}

func TestOpenAICancel(t *testing.T) {
	t.Parallel()
	srv, _ := speechServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := Record(ctx, &OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}, "alloy", "Hello", Params{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrTransient)
}

func TestOpenAIVoices(t *testing.T) {
	t.Parallel()
	o := &OpenAI{}
	require.Equal(t, "openai", o.Engine())
	voices, err := o.Voices(t.Context())
	require.NoError(t, err)
	require.Len(t, voices, 6)
	require.Equal(t, Voice{
		EngineVoiceID: "alloy",
		Name:          "Alloy",
		Language:      "mul",
		LanguageName:  "Multiple languages",
		Gender:        "NEUTRAL",
		Tags:          []string{"multilingual"},
		Quality:       QualityNeural,
	}, voices[0])

	o = &OpenAI{VoiceNames: []string{"af_heart"}}
	voices, err = o.Voices(t.Context())
	require.NoError(t, err)
	require.Len(t, voices, 1)
	require.Equal(t, "af_heart", voices[0].EngineVoiceID)
	_, err = Record(t.Context(), o, "alloy", "Hello", Params{})
	require.ErrorIs(t, err, ErrUnknownVoice, "only the configured voices")
}

func TestOpenAIBlankText(t *testing.T) {
	t.Parallel()
	srv, requests := speechServer(t, rawPCM())
	pcm, err := Record(t.Context(), &OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}, "alloy", " \n", Params{})
	require.NoError(t, err)
	require.Empty(t, pcm.Samples)
	require.Empty(t, requests, "nothing sent")
}

// TestOpenAIStreams: the answer is decoded as it arrives. The server sends
// half the audio and holds the rest back until the engine has passed that
// half on, which a client reading the whole body first would never do.
func TestOpenAIStreams(t *testing.T) {
	t.Parallel()
	firstHalf := make(chan struct{})
	srv, _ := speechServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/pcm")
		_, _ = w.Write([]byte{1, 0, 2}) // a sample and a half
		w.(http.Flusher).Flush()
		select {
		case <-firstHalf:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte{0, 3, 0})
	})
	var got []int16
	w := pcmFunc(func(p PCM) error {
		got = append(got, p.Samples...)
		if len(got) == 1 {
			close(firstHalf)
		}
		return nil
	})
	err := (&OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}).Synthesize(t.Context(), "alloy", "Hi", Params{}, w)
	require.NoError(t, err)
	require.Equal(t, []int16{1, 2, 3}, got, "a sample split between reads is put together")
}

// pcmFunc is a PCMWriter made of a function.
type pcmFunc func(PCM) error

func (f pcmFunc) WritePCM(p PCM) error { return f(p) }

// TestOpenAIBounds: an answer longer than MaxResponseBytes is refused, and
// a server that never finishes answering is given up on after Timeout
// (finding 16h: the client had neither).
func TestOpenAIBounds(t *testing.T) {
	t.Parallel()
	big, _ := speechServer(t, rawPCM(make([]int16, 1000)...))
	_, err := Record(t.Context(), &OpenAI{BaseURL: big.URL, APIKey: "sk-test", MaxResponseBytes: 1000}, "alloy", "Hi", Params{})
	require.ErrorContains(t, err, "the answer is longer than 1000 bytes")
	require.NotErrorIs(t, err, ErrTransient)

	stuck, _ := speechServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/pcm")
		_, _ = w.Write([]byte{1, 0})
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	_, err = Record(t.Context(), &OpenAI{BaseURL: stuck.URL, APIKey: "sk-test", Timeout: 200 * time.Millisecond}, "alloy", "Hi", Params{})
	require.ErrorContains(t, err, "Client.Timeout")
	require.ErrorIs(t, err, ErrTransient, "a timeout may pass on a retry")

	require.Equal(t, 5*time.Minute, DefaultOpenAITimeout)
	require.EqualValues(t, 256<<20, DefaultOpenAIMaxResponse)
}

// TestOpenAIWriterStops: when the writer refuses (a limit was reached),
// the engine stops reading and returns the writer's error as it is.
func TestOpenAIWriterStops(t *testing.T) {
	t.Parallel()
	srv, _ := speechServer(t, rawPCM(make([]int16, 100_000)...))
	full := errors.New("full")
	calls := 0
	err := (&OpenAI{BaseURL: srv.URL, APIKey: "sk-test"}).Synthesize(t.Context(), "alloy", "Hi", Params{}, pcmFunc(func(PCM) error {
		calls++
		return full
	}))
	require.ErrorIs(t, err, full)
	require.NotErrorIs(t, err, ErrTransient)
	require.Equal(t, 1, calls)
}
