package config_test

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/config"
)

// env is a getenv over a map, as Load takes in tests.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// problems splits Load's joined error into one message per problem.
func problems(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "Load joins its errors: %v", err)
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

// adminKey is a KOE_ADMIN_API_KEY made as the README says.
const adminKey = "q3V8x0Yc9mS2pLk4TnW7bRz1HfJ6gDeA5uPoMiKvEsQ="

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	require.NoError(t, err)

	dataDir, err := filepath.Abs("./data")
	require.NoError(t, err)
	require.Equal(t, config.Config{
		Addr:             ":8080",
		DataDir:          dataDir,
		BlobURL:          "file://" + filepath.ToSlash(filepath.Join(dataDir, "blobs")) + "?create_dir=true",
		Role:             config.RoleAll,
		LogLevel:         "info",
		Introspection:    true,
		Playground:       true,
		AudioURLTTL:      time.Hour,
		MaxTextChars:     100_000,
		MaxBodyBytes:     2_097_152,
		JobWorkers:       4,
		JobWake:          true,
		SynthConcurrency: runtime.NumCPU(),
		EspeakPath:       "espeak-ng",
		EspeakHelper:     "koe-espeak",
		FliteHelper:      "koe-flite",
		FlitePath:        "flite",
		FestivalPath:     "festival",
		LamePath:         "lame",
		OpusencPath:      "opusenc",
		OpenAITTSModel:   "tts-1",
		OpenAITTSVoices:  []string{"alloy", "echo", "fable", "onyx", "nova", "shimmer"},
		OpenJTalkPath:    "open_jtalk",
		OpenJTalkVoices:  config.DefaultOpenJTalkVoices,
		AnonymousRPM:     60,
		SendGridBaseURL:  "https://api.sendgrid.com",
		EmailFrom:        "Koe <no-reply@koe.local>",
		EmailRate:        300,
		StripeMeterEvent: "koe_characters",
		JobTimeout:       15 * time.Minute,
		OTLPProtocol:     "http/protobuf",

		AuthFailuresPerMinute: 20,
		OpenJTalkDictionary:   config.DefaultOpenJTalkDictionary,
	}, c)
	require.False(t, c.Postgres(), "no DATABASE_URL: SQLite")
	require.True(t, c.Role.ServesAPI())
	require.True(t, c.Role.RunsJobs())
}

func TestLoadReadsEveryVariable(t *testing.T) {
	t.Parallel()
	web := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(web, "index.html"), []byte("<!doctype html>"), 0o644))
	jtalk := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(jtalk, "sys.dic"), nil, 0o644))
	c, err := config.Load(env(map[string]string{
		"KOE_WEB_DIR":                 web,
		"KOE_OPENJTALK_PATH":          "/opt/open_jtalk",
		"KOE_OPENJTALK_DICTIONARY":    jtalk,
		"KOE_OPENJTALK_VOICES":        jtalk,
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
		"FIREBASE_WEB_API_KEY":        "AIzaTest",
		"FIREBASE_AUTH_DOMAIN":        "login.koe.example.com",
		"KOE_ADDR":                    "127.0.0.1:9000",
		"KOE_DATA_DIR":                "/var/lib/koe",
		"DATABASE_URL":                "postgres://koe@db/koe",
		"KOE_ADMIN_API_KEY":           adminKey,
		"KOE_PUBLIC_URL":              "https://koe.example.com/",
		"KOE_ENV":                     "Production",
		"KOE_ROLE":                    "worker",
		"KOE_LOG_LEVEL":               "DEBUG",
		"KOE_PLAYGROUND":              "true",
		"KOE_SIGNING_SECRET":          strings.Repeat("s", 32),
		"KOE_AUDIO_URL_TTL":           "15m",
		"KOE_MAX_TEXT_CHARS":          "5000",
		"KOE_MAX_BODY_BYTES":          "4096",
		"KOE_JOB_WORKERS":             "8",
		"KOE_JOB_WAKE":                "false",
		"KOE_SYNTH_CONCURRENCY":       "2",
		"KOE_ESPEAK_PATH":             "/opt/espeak-ng",
		"KOE_ESPEAK_HELPER":           "/opt/koe-espeak",
		"KOE_FLITE_HELPER":            "/opt/koe-flite",
		"KOE_ENGINE_IDLE_TIMEOUT":     "30s",
		"KOE_FLITE_PATH":              "/opt/flite",
		"KOE_FESTIVAL_PATH":           "/opt/festival",
		"KOE_LAME_PATH":               "/opt/lame",
		"KOE_OPUSENC_PATH":            "/opt/opusenc",
		"KOE_OPENAI_TTS_URL":          "http://tts.internal:8000",
		"KOE_OPENAI_TTS_KEY":          "sk-test",
		"KOE_OPENAI_TTS_MODEL":        "tts-1-hd",
		"KOE_OPENAI_TTS_VOICES":       " alloy , nova,,",
		"KOE_ALLOWED_ORIGINS":         "https://app.example.com, http://localhost:3000",
		"KOE_REDIS_URL":               "redis://cache:6379/1",
		"KOE_ANONYMOUS_RPM":           "30",
		"FIREBASE_PROJECT_ID":         "koe-prod",
		"STRIPE_SECRET_KEY":           "sk_live_x",
		"STRIPE_WEBHOOK_SECRET":       "whsec_x",
		"STRIPE_METER_EVENT":          "characters",
		"KOE_APP_URL":                 "https://app.koe.example.com/",
		"KOE_SMTP_URL":                "smtp://koe:secret@mail.example.com:587",
		"KOE_EMAIL_FROM":              "Koe <hello@koe.example.com>",
		"KOE_EMAIL_RATE":              "50",
		"KOE_DEBUG_ADDR":              "127.0.0.1:6060",
		"KOE_JOB_TIMEOUT":             "5m",
		"KOE_METRICS_ADDR":            "0.0.0.0:9090",
		"KOE_METRICS_TOKEN":           "mT5vQ9zR2wX7kB4nL8pC1sF6hJ3dG0yE",

		"KOE_TRUSTED_PROXIES":          "10.0.0.0/8, 192.168.1.7,fd00::1/8",
		"KOE_AUTH_FAILURES_PER_MINUTE": "5",
	}))
	require.NoError(t, err)
	require.Equal(t, config.Config{
		Addr:                "127.0.0.1:9000",
		DataDir:             "/var/lib/koe",
		DatabaseURL:         "postgres://koe@db/koe",
		BlobURL:             "file:///var/lib/koe/blobs?create_dir=true",
		AdminAPIKey:         adminKey,
		PublicURL:           "https://koe.example.com",
		Production:          true,
		Role:                config.RoleWorker,
		LogLevel:            "debug",
		Introspection:       false,
		Playground:          true,
		SigningSecret:       strings.Repeat("s", 32),
		AudioURLTTL:         15 * time.Minute,
		MaxTextChars:        5000,
		MaxBodyBytes:        4096,
		JobWorkers:          8,
		JobWake:             false,
		SynthConcurrency:    2,
		EspeakPath:          "/opt/espeak-ng",
		EspeakHelper:        "/opt/koe-espeak",
		FliteHelper:         "/opt/koe-flite",
		EngineIdleTimeout:   30 * time.Second,
		FlitePath:           "/opt/flite",
		FestivalPath:        "/opt/festival",
		LamePath:            "/opt/lame",
		OpusencPath:         "/opt/opusenc",
		OpenAITTSURL:        "http://tts.internal:8000",
		OpenAITTSKey:        "sk-test",
		OpenAITTSModel:      "tts-1-hd",
		OpenAITTSVoices:     []string{"alloy", "nova"},
		OpenJTalkPath:       "/opt/open_jtalk",
		OpenJTalkDictionary: jtalk,
		OpenJTalkVoices:     jtalk,
		AllowedOrigins:      []string{"https://app.example.com", "http://localhost:3000"},
		RedisURL:            "redis://cache:6379/1",
		AnonymousRPM:        30,
		FirebaseProjectID:   "koe-prod",
		FirebaseWebAPIKey:   "AIzaTest",
		FirebaseAuthDomain:  "login.koe.example.com",
		WebDir:              web,
		OTLPEndpoint:        "http://collector:4318/v1/traces",
		OTLPProtocol:        "http/protobuf",
		StripeSecretKey:     "sk_live_x",
		StripeWebhookSecret: "whsec_x",
		StripeMeterEvent:    "characters",
		AppURL:              "https://app.koe.example.com",
		SMTPURL:             "smtp://koe:secret@mail.example.com:587",
		SendGridBaseURL:     "https://api.sendgrid.com",
		EmailFrom:           "Koe <hello@koe.example.com>",
		EmailRate:           50,
		DebugAddr:           "127.0.0.1:6060",
		MetricsAddr:         "0.0.0.0:9090",
		MetricsToken:        "mT5vQ9zR2wX7kB4nL8pC1sF6hJ3dG0yE",
		JobTimeout:          5 * time.Minute,

		TrustedProxies:        []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")},
		AuthFailuresPerMinute: 5,
	}, c)
	require.True(t, c.Postgres())
	require.False(t, c.Role.ServesAPI())
	require.True(t, c.Role.RunsJobs())
}

func TestLoadNamesTheVariableAtFault(t *testing.T) {
	t.Parallel()
	webBuild := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(webBuild, "index.html"), []byte("<!doctype html>"), 0o644))
	tests := []struct {
		name string
		vars map[string]string
		want string // the variable the one error must name
	}{
		{"address without port", map[string]string{"KOE_ADDR": "8080"}, "KOE_ADDR"},
		{"address that is a URL", map[string]string{"KOE_ADDR": "http://localhost:8080"}, "KOE_ADDR"},
		{"database that is not postgres", map[string]string{"DATABASE_URL": "mysql://koe@db/koe"}, "DATABASE_URL"},
		{"database that is a path", map[string]string{"DATABASE_URL": "/var/lib/koe/koe.db"}, "DATABASE_URL"},
		{"short admin key", map[string]string{"KOE_ADMIN_API_KEY": strings.Repeat("k", 31)}, "KOE_ADMIN_API_KEY"},
		{"guessable admin key", map[string]string{"KOE_ADMIN_API_KEY": strings.Repeat("k", 40)}, "KOE_ADMIN_API_KEY"},
		{"admin key of a phrase repeated", map[string]string{"KOE_ADMIN_API_KEY": "changemechangemechangemechangeme"}, "KOE_ADMIN_API_KEY"},
		{"metrics on no port", map[string]string{"KOE_METRICS_ADDR": "127.0.0.1"}, "KOE_METRICS_ADDR"},
		{"guessable metrics token", map[string]string{"KOE_METRICS_TOKEN": "metrics-metrics-metrics-metrics-"}, "KOE_METRICS_TOKEN"},
		{"emulator set but blank", map[string]string{"FIREBASE_AUTH_EMULATOR_HOST": " \t"}, "FIREBASE_AUTH_EMULATOR_HOST"},
		{"emulator set but blank in production", map[string]string{"KOE_ENV": "production", "FIREBASE_AUTH_EMULATOR_HOST": " "}, "FIREBASE_AUTH_EMULATOR_HOST"},
		{"short signing secret", map[string]string{"KOE_SIGNING_SECRET": "secret"}, "KOE_SIGNING_SECRET"},
		{"unknown environment", map[string]string{"KOE_ENV": "staging"}, "KOE_ENV"},
		{"unknown role", map[string]string{"KOE_ROLE": "boss"}, "KOE_ROLE"},
		{"worker on SQLite", map[string]string{"KOE_ROLE": "worker"}, "KOE_ROLE"},
		{"api on SQLite", map[string]string{"KOE_ROLE": "api"}, "KOE_ROLE"},
		{"redis that is not a URL", map[string]string{"KOE_REDIS_URL": "cache:6379"}, "KOE_REDIS_URL"},
		{"anonymous rate of zero", map[string]string{"KOE_ANONYMOUS_RPM": "0"}, "KOE_ANONYMOUS_RPM"},
		{"trusted proxy that is a host name", map[string]string{"KOE_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, "KOE_TRUSTED_PROXIES"},
		{"trusted network too wide", map[string]string{"KOE_TRUSTED_PROXIES": "10.0.0.0/33"}, "KOE_TRUSTED_PROXIES"},
		{"no failed sign-in allowed", map[string]string{"KOE_AUTH_FAILURES_PER_MINUTE": "0"}, "KOE_AUTH_FAILURES_PER_MINUTE"},
		{"pprof on a public address", map[string]string{"KOE_DEBUG_ADDR": ":6060"}, "KOE_DEBUG_ADDR"},
		{"pprof on another host", map[string]string{"KOE_DEBUG_ADDR": "10.0.0.5:6060"}, "KOE_DEBUG_ADDR"},
		{"a job timeout that is not a duration", map[string]string{"KOE_JOB_TIMEOUT": "soon"}, "KOE_JOB_TIMEOUT"},
		{"smtp and sendgrid at once", map[string]string{"KOE_SMTP_URL": "smtp://mail:587", "SENDGRID_API_KEY": "SG.x"}, "KOE_SMTP_URL"},
		{"smtp that is not a URL", map[string]string{"KOE_SMTP_URL": "mail.example.com:587"}, "KOE_SMTP_URL"},
		{"a from that is not an address", map[string]string{"KOE_EMAIL_FROM": "koe"}, "KOE_EMAIL_FROM"},
		{"an email rate of zero", map[string]string{"KOE_EMAIL_RATE": "0"}, "KOE_EMAIL_RATE"},
		{"an app URL that is relative", map[string]string{"KOE_APP_URL": "/app"}, "KOE_APP_URL"},
		{"stripe without a webhook secret", map[string]string{"STRIPE_SECRET_KEY": "sk_test_1"}, "STRIPE_WEBHOOK_SECRET"},
		{"stripe-mock in production", map[string]string{"KOE_ENV": "production", "STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE"},
		{"emulator in production", map[string]string{"KOE_ENV": "production", "FIREBASE_PROJECT_ID": "koe", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"},
		{"OTLP endpoint that is not a URL", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"OTLP over an unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"web dir without a build", map[string]string{"KOE_WEB_DIR": os.TempDir() + "/koe-no-such-build"}, "KOE_WEB_DIR"},
		{"web app with Firebase but no web key", map[string]string{"KOE_WEB_DIR": webBuild, "FIREBASE_PROJECT_ID": "koe"}, "FIREBASE_WEB_API_KEY"},
		{"emulator without a project", map[string]string{"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_PROJECT_ID"},
		{"emulator that is not host:port", map[string]string{"FIREBASE_PROJECT_ID": "demo-koe", "FIREBASE_AUTH_EMULATOR_HOST": "localhost"}, "FIREBASE_AUTH_EMULATOR_HOST"},
		{"unknown log level", map[string]string{"KOE_LOG_LEVEL": "verbose"}, "KOE_LOG_LEVEL"},
		{"public URL without scheme", map[string]string{"KOE_PUBLIC_URL": "koe.example.com"}, "KOE_PUBLIC_URL"},
		{"public URL of another scheme", map[string]string{"KOE_PUBLIC_URL": "ftp://koe.example.com"}, "KOE_PUBLIC_URL"},
		{"public URL without host", map[string]string{"KOE_PUBLIC_URL": "https://"}, "KOE_PUBLIC_URL"},
		{"blob URL without scheme", map[string]string{"KOE_BLOB_URL": "/var/lib/koe/blobs"}, "KOE_BLOB_URL"},
		{"blob URL that does not parse", map[string]string{"KOE_BLOB_URL": "://blobs"}, "KOE_BLOB_URL"},
		{"text limit of zero", map[string]string{"KOE_MAX_TEXT_CHARS": "0"}, "KOE_MAX_TEXT_CHARS"},
		{"text limit too large", map[string]string{"KOE_MAX_TEXT_CHARS": "10000001"}, "KOE_MAX_TEXT_CHARS"},
		{"text limit not a number", map[string]string{"KOE_MAX_TEXT_CHARS": "10k"}, "KOE_MAX_TEXT_CHARS"},
		{"body limit too small", map[string]string{"KOE_MAX_BODY_BYTES": "100"}, "KOE_MAX_BODY_BYTES"},
		{"no job workers", map[string]string{"KOE_JOB_WORKERS": "0"}, "KOE_JOB_WORKERS"},
		{"no synthesis concurrency", map[string]string{"KOE_SYNTH_CONCURRENCY": "-1"}, "KOE_SYNTH_CONCURRENCY"},
		{"audio TTL without unit", map[string]string{"KOE_AUDIO_URL_TTL": "3600"}, "KOE_AUDIO_URL_TTL"},
		{"negative audio TTL", map[string]string{"KOE_AUDIO_URL_TTL": "-1h"}, "KOE_AUDIO_URL_TTL"},
		{"zero audio TTL", map[string]string{"KOE_AUDIO_URL_TTL": "0s"}, "KOE_AUDIO_URL_TTL"},
		{"introspection not a boolean", map[string]string{"KOE_INTROSPECTION": "maybe"}, "KOE_INTROSPECTION"},
		{"playground not a boolean", map[string]string{"KOE_PLAYGROUND": "on"}, "KOE_PLAYGROUND"},
		{"origin with a path", map[string]string{"KOE_ALLOWED_ORIGINS": "https://app.example.com/login"}, "KOE_ALLOWED_ORIGINS"},
		{"origin without scheme", map[string]string{"KOE_ALLOWED_ORIGINS": "https://ok.example.com,app.example.com"}, "KOE_ALLOWED_ORIGINS"},
		{"TTS server of another scheme", map[string]string{"KOE_OPENAI_TTS_URL": "ftp://tts.internal"}, "KOE_OPENAI_TTS_URL"},
		{"TTS server without scheme", map[string]string{"KOE_OPENAI_TTS_URL": "tts.internal:8000"}, "KOE_OPENAI_TTS_URL"},
		{"TTS server without voices", map[string]string{"KOE_OPENAI_TTS_URL": "http://tts.internal", "KOE_OPENAI_TTS_VOICES": " , "}, "KOE_OPENAI_TTS_VOICES"},
		{"Open JTalk dictionary that is not there", map[string]string{"KOE_OPENJTALK_DICTIONARY": "/nonexistent/naist-jdic"}, "KOE_OPENJTALK_DICTIONARY"},
		{"Open JTalk dictionary without sys.dic", map[string]string{"KOE_OPENJTALK_DICTIONARY": webBuild}, "KOE_OPENJTALK_DICTIONARY"},
		{"Open JTalk voices that are not there", map[string]string{"KOE_OPENJTALK_VOICES": "/nonexistent/hts-voice"}, "KOE_OPENJTALK_VOICES"},
		{"Open JTalk voices in a file", map[string]string{"KOE_OPENJTALK_VOICES": filepath.Join(webBuild, "index.html")}, "KOE_OPENJTALK_VOICES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(tt.vars))
			got := problems(t, err)
			require.Len(t, got, 1, "one problem, one message: %q", got)
			require.True(t, strings.HasPrefix(got[0], tt.want+" "), "the message starts with the variable: %q", got[0])
		})
	}
}

// TestAdminKeyStrength: keys made as the README says (32 random bytes in
// base64), or as Koe makes its own, pass; keys people type are refused with a
// message that says what is wanted.
func TestAdminKeyStrength(t *testing.T) {
	t.Parallel()
	for range 1000 {
		var b [32]byte
		_, _ = rand.Read(b[:])
		for _, key := range []string{
			base64.StdEncoding.EncodeToString(b[:]),                           // head -c 32 /dev/urandom | base64
			hex.EncodeToString(b[:]),                                          // openssl rand -hex 32
			"koe_" + strings.ToLower(base32.HexEncoding.EncodeToString(b[:])), // the shape of Koe's own keys
			"koe-e2e-admin-" + hex.EncodeToString(b[:24]),                     // scripts/web-test.sh
		} {
			_, err := config.Load(env(map[string]string{"KOE_ADMIN_API_KEY": key}))
			require.NoError(t, err, key)
		}
	}
	for _, key := range []string{
		strings.Repeat("a", 32),
		"password1234password1234password",
		"0123456789012345678901234567890123",
	} {
		_, err := config.Load(env(map[string]string{"KOE_ADMIN_API_KEY": key}))
		got := problems(t, err)
		require.Len(t, got, 1, key)
		require.Contains(t, got[0], "KOE_ADMIN_API_KEY looks guessable")
		require.Contains(t, got[0], "at least 128 are wanted", "says what is wanted")
		require.Contains(t, got[0], "head -c 32 /dev/urandom | base64", "and how to make one")
	}
	// The keys this repository's own stacks use pass.
	for _, key := range []string{"local-admin-key-change-me-0123456789", "koe_test_admin_key_0123456789abcdefghijkl"} {
		_, err := config.Load(env(map[string]string{"KOE_ADMIN_API_KEY": key}))
		require.NoError(t, err, key)
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{
		"KOE_ADDR":            "nowhere",
		"KOE_ENV":             "staging",
		"KOE_MAX_TEXT_CHARS":  "many",
		"KOE_ALLOWED_ORIGINS": "app.example.com",
	}))
	got := problems(t, err)
	require.Len(t, got, 4, "%q", got)
	for _, name := range []string{"KOE_ADDR", "KOE_ENV", "KOE_MAX_TEXT_CHARS", "KOE_ALLOWED_ORIGINS"} {
		require.Contains(t, err.Error(), name)
	}
	require.Contains(t, err.Error(), `"many"`, "the message shows the bad value")
}

// TestOTLPEndpoint follows OpenTelemetry's variables: the base endpoint gets
// /v1/traces over HTTP and stays as it is over gRPC, the traces endpoint is
// taken as given, and OTEL_SDK_DISABLED turns tracing off.
func TestOTLPEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		vars           map[string]string
		endpoint, prot string
	}{
		{"off by default", nil, "", "http/protobuf"},
		{"http base", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com"}, "https://otel.example.com/v1/traces", "http/protobuf"},
		{"grpc base", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http://collector:4317", "grpc"},
		{"traces endpoint wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/custom"}, "http://b:4318/custom", "http/protobuf"},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "", "http/protobuf"},
		{"disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"}, "", "http/protobuf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(tt.vars))
			require.NoError(t, err)
			require.Equal(t, tt.endpoint, c.OTLPEndpoint)
			require.Equal(t, tt.prot, c.OTLPProtocol)
		})
	}
}

func TestProductionTurnsIntrospectionAndPlaygroundOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                      string
		vars                      map[string]string
		introspection, playground bool
	}{
		{"development", map[string]string{}, true, true},
		{"development, turned off", map[string]string{"KOE_INTROSPECTION": "false", "KOE_PLAYGROUND": "0"}, false, false},
		{"production", map[string]string{"KOE_ENV": "production"}, false, false},
		{"production, introspection on", map[string]string{"KOE_ENV": "production", "KOE_INTROSPECTION": "true"}, true, false},
		{"production, playground on", map[string]string{"KOE_ENV": "PRODUCTION", "KOE_PLAYGROUND": "1"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.vars))
			require.NoError(t, err)
			require.Equal(t, tt.introspection, c.Introspection, "introspection")
			require.Equal(t, tt.playground, c.Playground, "playground")
		})
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role            config.Role
		serves, working bool
	}{
		{config.RoleAll, true, true},
		{config.RoleAPI, true, false},
		{config.RoleWorker, false, true},
	}
	for _, tt := range tests {
		c, err := config.Load(env(map[string]string{"KOE_ROLE": string(tt.role), "DATABASE_URL": "postgresql://koe@db/koe"}))
		require.NoError(t, err)
		require.Equal(t, tt.role, c.Role)
		require.Equal(t, tt.serves, c.Role.ServesAPI(), tt.role)
		require.Equal(t, tt.working, c.Role.RunsJobs(), tt.role)
	}
}
