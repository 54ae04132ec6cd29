// Package config reads Koe's configuration from the environment and validates
// it at start, with messages that name the variable at fault.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Role says which parts of Koe a process runs.
type Role string

// The roles of KOE_ROLE.
const (
	RoleAll    Role = "all"
	RoleAPI    Role = "api"
	RoleWorker Role = "worker"
)

// ServesAPI reports whether the process answers HTTP requests for the API.
func (r Role) ServesAPI() bool { return r == RoleAll || r == RoleAPI }

// RunsJobs reports whether the process works River jobs.
func (r Role) RunsJobs() bool { return r == RoleAll || r == RoleWorker }

// Config is everything Koe reads from the environment.
type Config struct {
	Addr                string        // KOE_ADDR
	DataDir             string        // KOE_DATA_DIR
	DatabaseURL         string        // DATABASE_URL; empty: SQLite in DataDir
	BlobURL             string        // KOE_BLOB_URL
	AdminAPIKey         string        // KOE_ADMIN_API_KEY
	PublicURL           string        // KOE_PUBLIC_URL, without a trailing slash; empty: the listening address
	Production          bool          // KOE_ENV=production
	Role                Role          // KOE_ROLE
	LogLevel            string        // KOE_LOG_LEVEL
	Introspection       bool          // KOE_INTROSPECTION
	Playground          bool          // KOE_PLAYGROUND
	SigningSecret       string        // KOE_SIGNING_SECRET; empty: one kept in the database
	AudioURLTTL         time.Duration // KOE_AUDIO_URL_TTL
	MaxTextChars        int           // KOE_MAX_TEXT_CHARS
	MaxBodyBytes        int64         // KOE_MAX_BODY_BYTES
	JobWorkers          int           // KOE_JOB_WORKERS
	JobWake             bool          // KOE_JOB_WAKE
	SynthConcurrency    int           // KOE_SYNTH_CONCURRENCY
	EspeakPath          string        // KOE_ESPEAK_PATH
	EspeakHelper        string        // KOE_ESPEAK_HELPER
	FliteHelper         string        // KOE_FLITE_HELPER
	EngineIdleTimeout   time.Duration // KOE_ENGINE_IDLE_TIMEOUT; 0: tts.DefaultIdleTimeout
	FlitePath           string        // KOE_FLITE_PATH
	FestivalPath        string        // KOE_FESTIVAL_PATH
	LamePath            string        // KOE_LAME_PATH
	OpusencPath         string        // KOE_OPUSENC_PATH
	OpenAITTSURL        string        // KOE_OPENAI_TTS_URL
	OpenAITTSKey        string        // KOE_OPENAI_TTS_KEY
	OpenAITTSModel      string        // KOE_OPENAI_TTS_MODEL
	OpenAITTSVoices     []string      // KOE_OPENAI_TTS_VOICES
	OpenJTalkPath       string        // KOE_OPENJTALK_PATH
	OpenJTalkDictionary string        // KOE_OPENJTALK_DICTIONARY: Open JTalk's MeCab dictionary folder
	OpenJTalkVoices     string        // KOE_OPENJTALK_VOICES: a folder of .htsvoice files, each a voice
	AllowedOrigins      []string      // KOE_ALLOWED_ORIGINS
	RedisURL            string        // KOE_REDIS_URL; empty: rate limits per process
	AnonymousRPM        int           // KOE_ANONYMOUS_RPM: requests a minute per IP without credentials
	DebugAddr           string        // KOE_DEBUG_ADDR: pprof, loopback only; empty: off
	MetricsAddr         string        // KOE_METRICS_ADDR: /metrics on a listener of its own; empty: off
	MetricsToken        string        // KOE_METRICS_TOKEN: /metrics on the public listener for this bearer token; empty: not there
	JobTimeout          time.Duration // KOE_JOB_TIMEOUT: a generation job's time limit
	AppURL              string        // KOE_APP_URL: the web app, for links in email; empty: PublicURL
	SMTPURL             string        // KOE_SMTP_URL
	SendGridAPIKey      string        // SENDGRID_API_KEY
	SendGridBaseURL     string        // SENDGRID_BASE_URL, for tests
	EmailFrom           string        // KOE_EMAIL_FROM
	EmailRate           int           // KOE_EMAIL_RATE: messages a second per worker process
	StripeSecretKey     string        // STRIPE_SECRET_KEY; empty: billing off
	StripeWebhookSecret string        // STRIPE_WEBHOOK_SECRET
	StripeAPIBase       string        // STRIPE_API_BASE, for stripe-mock
	StripeMeterEvent    string        // STRIPE_METER_EVENT: the Billing Meter event name for overage
	// FirebaseProjectID (FIREBASE_PROJECT_ID) turns on sign-in with Firebase
	// ID tokens.
	FirebaseProjectID string
	// FirebaseEmulatorHost (FIREBASE_AUTH_EMULATOR_HOST) points the Firebase
	// SDK at the Auth emulator, which accepts unsigned tokens: never in
	// production.
	FirebaseEmulatorHost string
	// FirebaseWebAPIKey (FIREBASE_WEB_API_KEY) and FirebaseAuthDomain
	// (FIREBASE_AUTH_DOMAIN) are the public web configuration the web app
	// signs in with.
	FirebaseWebAPIKey  string
	FirebaseAuthDomain string
	// FirebaseWebEmulatorHost (KOE_WEB_FIREBASE_EMULATOR_HOST) is the Auth
	// emulator as browsers reach it, when that differs from how the server
	// does (in compose, localhost:9099 against firebase:9099).
	FirebaseWebEmulatorHost string
	// OTLPEndpoint is where traces go by OTLP, with its path:
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT
	// plus /v1/traces over HTTP; empty (or OTEL_SDK_DISABLED=true): no tracing.
	OTLPEndpoint string
	// OTLPProtocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
	// OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" (default) or "grpc".
	OTLPProtocol string
	// WebDir (KOE_WEB_DIR) is the web app's static build, served at /;
	// empty: no web app, Playground at /.
	WebDir string
	// TrustedProxies (KOE_TRUSTED_PROXIES) are the networks of the proxies
	// in front of Koe: only from a peer inside one is a client's address
	// taken from X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// AuthFailuresPerMinute (KOE_AUTH_FAILURES_PER_MINUTE) is how many
	// failed sign-ins one client address may make a minute before its
	// further attempts are refused unread.
	AuthFailuresPerMinute int
}

// The places Debian installs Open JTalk's dictionary (open-jtalk-mecab-naist-jdic)
// and HTS voices (hts-voice-* packages, where the archive has them).
const (
	DefaultOpenJTalkDictionary = "/var/lib/mecab/dic/open-jtalk/naist-jdic"
	DefaultOpenJTalkVoices     = "/usr/share/hts-voice"
)

// Postgres reports whether the database is PostgreSQL rather than SQLite.
func (c Config) Postgres() bool { return c.DatabaseURL != "" }

// Load reads the configuration through getenv (os.Getenv in production, a map
// in tests) and returns every problem at once.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		Addr:                l.str("KOE_ADDR", ":8080"),
		DataDir:             l.str("KOE_DATA_DIR", "./data"),
		DatabaseURL:         l.str("DATABASE_URL", ""),
		AdminAPIKey:         l.str("KOE_ADMIN_API_KEY", ""),
		LogLevel:            l.oneOf("KOE_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		SigningSecret:       l.str("KOE_SIGNING_SECRET", ""),
		AudioURLTTL:         l.duration("KOE_AUDIO_URL_TTL", time.Hour),
		MaxTextChars:        l.intRange("KOE_MAX_TEXT_CHARS", 100_000, 1, 10_000_000),
		MaxBodyBytes:        int64(l.intRange("KOE_MAX_BODY_BYTES", 2<<20, 1<<10, 1<<30)),
		JobWorkers:          l.intRange("KOE_JOB_WORKERS", 4, 1, 1000),
		JobWake:             l.boolean("KOE_JOB_WAKE", true),
		SynthConcurrency:    l.intRange("KOE_SYNTH_CONCURRENCY", runtime.NumCPU(), 1, 1000),
		EspeakPath:          l.str("KOE_ESPEAK_PATH", "espeak-ng"),
		EspeakHelper:        l.str("KOE_ESPEAK_HELPER", "koe-espeak"),
		FliteHelper:         l.str("KOE_FLITE_HELPER", "koe-flite"),
		EngineIdleTimeout:   l.duration("KOE_ENGINE_IDLE_TIMEOUT", 0),
		FlitePath:           l.str("KOE_FLITE_PATH", "flite"),
		FestivalPath:        l.str("KOE_FESTIVAL_PATH", "festival"),
		LamePath:            l.str("KOE_LAME_PATH", "lame"),
		OpusencPath:         l.str("KOE_OPUSENC_PATH", "opusenc"),
		OpenAITTSURL:        l.str("KOE_OPENAI_TTS_URL", ""),
		OpenAITTSKey:        l.str("KOE_OPENAI_TTS_KEY", ""),
		OpenAITTSModel:      l.str("KOE_OPENAI_TTS_MODEL", "tts-1"),
		OpenAITTSVoices:     l.list("KOE_OPENAI_TTS_VOICES", "alloy,echo,fable,onyx,nova,shimmer"),
		OpenJTalkPath:       l.str("KOE_OPENJTALK_PATH", "open_jtalk"),
		OpenJTalkDictionary: l.str("KOE_OPENJTALK_DICTIONARY", DefaultOpenJTalkDictionary),
		OpenJTalkVoices:     l.str("KOE_OPENJTALK_VOICES", DefaultOpenJTalkVoices),
		AllowedOrigins:      l.list("KOE_ALLOWED_ORIGINS", ""),
		RedisURL:            l.str("KOE_REDIS_URL", ""),
		AnonymousRPM:        l.intRange("KOE_ANONYMOUS_RPM", 60, 1, 1_000_000),
		DebugAddr:           l.str("KOE_DEBUG_ADDR", ""),
		MetricsAddr:         l.str("KOE_METRICS_ADDR", ""),
		MetricsToken:        l.str("KOE_METRICS_TOKEN", ""),
		JobTimeout:          l.duration("KOE_JOB_TIMEOUT", 15*time.Minute),
		AppURL:              strings.TrimRight(l.str("KOE_APP_URL", ""), "/"),
		SMTPURL:             l.str("KOE_SMTP_URL", ""),
		SendGridAPIKey:      l.str("SENDGRID_API_KEY", ""),
		SendGridBaseURL:     l.str("SENDGRID_BASE_URL", "https://api.sendgrid.com"),
		EmailFrom:           l.str("KOE_EMAIL_FROM", "Koe <no-reply@koe.local>"),
		EmailRate:           l.intRange("KOE_EMAIL_RATE", 300, 1, 100_000),
		StripeSecretKey:     l.str("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret: l.str("STRIPE_WEBHOOK_SECRET", ""),
		StripeAPIBase:       l.str("STRIPE_API_BASE", ""),
		StripeMeterEvent:    l.str("STRIPE_METER_EVENT", "koe_characters"),
	}
	env := l.oneOf("KOE_ENV", "development", "development", "production")
	c.Production = env == "production"
	c.Role = Role(l.oneOf("KOE_ROLE", string(RoleAll), string(RoleAll), string(RoleAPI), string(RoleWorker)))
	c.Introspection = l.boolean("KOE_INTROSPECTION", !c.Production)
	c.Playground = l.boolean("KOE_PLAYGROUND", !c.Production)

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		l.fail("KOE_ADDR", "must be host:port or :port, got %q", c.Addr)
	}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		l.fail("DATABASE_URL", "must be a postgres:// or postgresql:// URL")
	}
	if c.DatabaseURL == "" && c.Role != RoleAll {
		l.fail("KOE_ROLE", "%q needs DATABASE_URL: on SQLite one process does everything", c.Role)
	}
	c.BlobURL = l.str("KOE_BLOB_URL", "file://"+filepath.ToSlash(filepath.Join(c.DataDir, "blobs"))+"?create_dir=true")
	if u, err := url.Parse(c.BlobURL); err != nil || u.Scheme == "" {
		l.fail("KOE_BLOB_URL", "must be a URL such as file:///var/lib/koe/blobs or s3://bucket?region=…")
	}
	if c.AdminAPIKey != "" && len(c.AdminAPIKey) < 32 {
		l.fail("KOE_ADMIN_API_KEY", "must be at least 32 characters, got %d", len(c.AdminAPIKey))
	} else if c.AdminAPIKey != "" {
		l.unguessable("KOE_ADMIN_API_KEY", c.AdminAPIKey)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			l.fail("KOE_METRICS_ADDR", "must be host:port such as 127.0.0.1:9090, got %q", c.MetricsAddr)
		}
	}
	if c.MetricsToken != "" {
		l.unguessable("KOE_METRICS_TOKEN", c.MetricsToken)
	}
	if c.SigningSecret != "" && len(c.SigningSecret) < 32 {
		l.fail("KOE_SIGNING_SECRET", "must be at least 32 characters, got %d", len(c.SigningSecret))
	}
	c.PublicURL = strings.TrimRight(l.str("KOE_PUBLIC_URL", ""), "/")
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		l.fail("KOE_PUBLIC_URL", "must be an absolute http(s) URL such as https://koe.example.com, got %q", c.PublicURL)
	}
	if c.OpenAITTSURL != "" {
		if u, err := url.Parse(c.OpenAITTSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			l.fail("KOE_OPENAI_TTS_URL", "must be an http(s) URL, got %q", c.OpenAITTSURL)
		}
		if len(c.OpenAITTSVoices) == 0 {
			l.fail("KOE_OPENAI_TTS_VOICES", "must name at least one voice")
		}
	}
	// Left at their defaults, missing folders only leave Open JTalk out;
	// a folder set by hand must be there.
	if l.getenv("KOE_OPENJTALK_DICTIONARY") != "" {
		if _, err := os.Stat(filepath.Join(c.OpenJTalkDictionary, "sys.dic")); err != nil {
			l.fail("KOE_OPENJTALK_DICTIONARY", "must be Open JTalk's MeCab dictionary, a folder with sys.dic (Debian: open-jtalk-mecab-naist-jdic, %s): %v", DefaultOpenJTalkDictionary, err)
		}
	}
	if l.getenv("KOE_OPENJTALK_VOICES") != "" {
		if fi, err := os.Stat(c.OpenJTalkVoices); err != nil || !fi.IsDir() {
			l.fail("KOE_OPENJTALK_VOICES", "must be a folder of .htsvoice files, got %q", c.OpenJTalkVoices)
		}
	}
	if u, err := url.Parse(c.RedisURL); c.RedisURL != "" && (err != nil || (u.Scheme != "redis" && u.Scheme != "rediss")) {
		l.fail("KOE_REDIS_URL", "must be a redis:// or rediss:// URL, got %q", c.RedisURL)
	}
	if u, err := url.Parse(c.AppURL); c.AppURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		l.fail("KOE_APP_URL", "must be an absolute http(s) URL, got %q", c.AppURL)
	}
	if c.SMTPURL != "" && c.SendGridAPIKey != "" {
		l.fail("KOE_SMTP_URL", "and SENDGRID_API_KEY are both set; choose one way to send email")
	}
	if u, err := url.Parse(c.SMTPURL); c.SMTPURL != "" && (err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps")) {
		l.fail("KOE_SMTP_URL", "must be an smtp:// URL such as smtp://user:pass@mail.example.com:587")
	}
	if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
		l.fail("KOE_EMAIL_FROM", "must be an address such as \"Koe <no-reply@example.com>\", got %q", c.EmailFrom)
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			l.fail("KOE_DEBUG_ADDR", "must be a loopback address such as 127.0.0.1:6060 (profiles must not be public), got %q", c.DebugAddr)
		}
	}
	if c.StripeSecretKey != "" && c.StripeWebhookSecret == "" {
		l.fail("STRIPE_WEBHOOK_SECRET", "must be set with STRIPE_SECRET_KEY: webhooks are how payments take effect")
	}
	if c.Production && c.StripeAPIBase != "" {
		l.fail("STRIPE_API_BASE", "is for tests against stripe-mock; unset it in production")
	}
	c.FirebaseProjectID = l.str("FIREBASE_PROJECT_ID", "")
	c.FirebaseEmulatorHost = l.str("FIREBASE_AUTH_EMULATOR_HOST", "")
	if raw := l.getenv("FIREBASE_AUTH_EMULATOR_HOST"); raw != "" && c.FirebaseEmulatorHost == "" {
		// Set but blank reads as unset here, but the Firebase SDK reads the
		// process environment as is and would go to emulator mode, where
		// token signatures are not checked.
		l.fail("FIREBASE_AUTH_EMULATOR_HOST", "is set but blank; unset it (the Firebase SDK would treat it as an emulator and skip signature checks)")
	}
	if c.FirebaseEmulatorHost != "" {
		if c.Production {
			l.fail("FIREBASE_AUTH_EMULATOR_HOST", "must not be set in production: the Auth emulator accepts unsigned tokens, so anyone could sign in as anyone")
		}
		if _, _, err := net.SplitHostPort(c.FirebaseEmulatorHost); err != nil {
			l.fail("FIREBASE_AUTH_EMULATOR_HOST", "must be host:port, got %q", c.FirebaseEmulatorHost)
		}
		if c.FirebaseProjectID == "" {
			l.fail("FIREBASE_PROJECT_ID", "must be set when FIREBASE_AUTH_EMULATOR_HOST is (use a demo-… project id)")
		}
	}
	if c.FirebaseProjectID != "" {
		c.FirebaseAuthDomain = l.str("FIREBASE_AUTH_DOMAIN", c.FirebaseProjectID+".firebaseapp.com")
	}
	c.FirebaseWebAPIKey = l.str("FIREBASE_WEB_API_KEY", "")
	if c.FirebaseWebAPIKey == "" && c.FirebaseEmulatorHost != "" {
		c.FirebaseWebAPIKey = "emulator-api-key" // the emulator takes any key
	}
	c.OTLPProtocol = l.oneOf("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", l.oneOf("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "http/protobuf", "grpc"), "http/protobuf", "grpc")
	if base := strings.TrimRight(l.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""), "/"); base != "" && c.OTLPProtocol == "http/protobuf" {
		c.OTLPEndpoint = base + "/v1/traces"
	} else {
		c.OTLPEndpoint = base
	}
	if traces := l.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""); traces != "" {
		c.OTLPEndpoint = traces
	}
	if l.boolean("OTEL_SDK_DISABLED", false) {
		c.OTLPEndpoint = ""
	}
	if u, err := url.Parse(c.OTLPEndpoint); c.OTLPEndpoint != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		l.fail("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http(s) URL such as http://otel-collector:4318, got %q", c.OTLPEndpoint)
	}
	c.FirebaseWebEmulatorHost = l.str("KOE_WEB_FIREBASE_EMULATOR_HOST", c.FirebaseEmulatorHost)
	c.WebDir = l.str("KOE_WEB_DIR", "")
	if c.WebDir != "" {
		if abs, err := filepath.Abs(c.WebDir); err == nil {
			c.WebDir = abs
		}
		if _, err := os.Stat(filepath.Join(c.WebDir, "index.html")); err != nil {
			l.fail("KOE_WEB_DIR", "must be the web app's static build, a folder with index.html (cd web && npm run generate): %v", err)
		}
		if c.FirebaseProjectID != "" && c.FirebaseWebAPIKey == "" {
			l.fail("FIREBASE_WEB_API_KEY", "must be set with FIREBASE_PROJECT_ID and KOE_WEB_DIR: the web app signs in with it (Firebase console → Project settings → Web API key)")
		}
	}
	c.TrustedProxies = l.networks("KOE_TRUSTED_PROXIES")
	c.AuthFailuresPerMinute = l.intRange("KOE_AUTH_FAILURES_PER_MINUTE", 20, 1, 1_000_000)
	for _, o := range c.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			l.fail("KOE_ALLOWED_ORIGINS", "%q is not an origin such as https://app.example.com", o)
		}
	}
	return c, errors.Join(l.errs...)
}

// minSecretBits is how much guessing a secret an operator sets must take, by
// unguessable's estimate: 32 random bytes in base64 carry about 190 by it, 16
// in hex about 115.
const minSecretBits = 128

// unguessable refuses a secret whose characters carry too little
// information: its length times the Shannon entropy of its characters'
// frequencies, so "aaaa…" carries none and a phrase repeated carries little.
// It cannot tell a random key from a clever sentence; it catches the keys
// people type.
func (l *loader) unguessable(name, secret string) {
	if bits := secretBits(secret); bits < minSecretBits {
		l.fail(name, "looks guessable: its characters carry about %.0f bits and at least %d are wanted; make one with `head -c 32 /dev/urandom | base64`", bits, minSecretBits)
	}
}

// secretBits estimates the information in s: its length times the Shannon
// entropy of its characters' frequencies.
func secretBits(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	bits := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		bits -= float64(c) * math.Log2(p)
	}
	return bits
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of %s, got %q", strings.Join(allowed, "|"), v)
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

func (l *loader) intRange(name string, def, lo, hi int) int {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, "must be a positive duration such as 30m or 2h, got %q", v)
		return def
	}
	return d
}

// networks reads comma-separated CIDRs; a bare address is a network of one.
func (l *loader) networks(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range l.list(name, "") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				l.fail(name, "must be comma-separated networks such as 10.0.0.0/8,fd00::/8 (or single addresses), got %q", v)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

func (l *loader) list(name, def string) []string {
	var out []string
	for _, p := range strings.Split(l.str(name, def), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
