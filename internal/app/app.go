// Package app is the composition root: New builds every service from the
// configuration, Start serves, Shutdown drains. It is the one place that knows
// every concrete type; tests boot it whole on 127.0.0.1:0.
package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets, the embedded default
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets, for replicas
	"google.golang.org/api/option"

	"github.com/koe-voice/koe/graph/generated"
	"github.com/koe-voice/koe/graph/loaders"
	"github.com/koe-voice/koe/graph/resolvers"
	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/billing"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/email/outbox"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/httpapi"
	"github.com/koe-voice/koe/internal/kpi"
	"github.com/koe-voice/koe/internal/lexicon"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/notification"
	"github.com/koe-voice/koe/internal/ratelimit"
	"github.com/koe-voice/koe/internal/riverwake"
	"github.com/koe-voice/koe/internal/signedurl"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/tracing"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ja"
	"github.com/koe-voice/koe/internal/usage"
	"github.com/koe-voice/koe/internal/voice"
)

// App is a running Koe.
type App struct {
	cfg config.Config
	log *slog.Logger

	db       *store.DB
	bucket   *blob.Bucket
	helpers  []*tts.Helper // their processes stop with the app
	festival *tts.Festival // its processes stop with the app
	bus      events.Bus
	pgBus    *events.Postgres
	river    *river.Client[*sql.Tx]
	sender   email.Sender
	redis    *redis.Client
	auth     *auth.Service
	listener net.Listener
	server   *http.Server
	ws       *httpapi.Websocket
	debug    *http.Server
	metrics  *http.Server
	tracer   *tracing.Provider
	jobs     cachedCounts
	gauges   *metrics.Gauges

	// AdminKey is the admin API key made at first start, when
	// KOE_ADMIN_API_KEY is unset; empty on later starts.
	AdminKey string
	// URL is where the server answers, e.g. http://127.0.0.1:8080.
	URL string
	// DebugURL is where pprof answers, when KOE_DEBUG_ADDR is set.
	DebugURL string
	// MetricsURL is where /metrics answers, when KOE_METRICS_ADDR is set.
	MetricsURL string

	ready    atomic.Bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// apiKeyRevokedTopic carries the ids of revoked API keys on the bus.
const apiKeyRevokedTopic = "api-key-revoked"

// userChangedTopic carries the ids of users whose role or plan changed.
const userChangedTopic = "user-changed"

// Option adjusts how New builds the app; tests use them.
type Option func(*App)

// WithQueryHook adds a bun query hook to the database, e.g. to count the
// statements a request makes.
func WithQueryHook(h bun.QueryHook) Option {
	return func(a *App) { a.db.AddQueryHook(h) }
}

// New opens the database, runs migrations, syncs the voice catalog and builds
// every service. With role worker it listens for nothing but health checks.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.closeResources()
		}
	}()
	if a.tracer, err = tracing.New(ctx, tracing.Exporter{Endpoint: cfg.OTLPEndpoint, Protocol: cfg.OTLPProtocol},
		attribute.String("koe.role", string(cfg.Role))); err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	// tracer is the provider the instrumentation is given: nil when off, so
	// none of it runs.
	var tracer trace.TracerProvider
	if a.tracer.Enabled() {
		tracer = a.tracer
	}
	if a.db, err = store.Open(ctx, cfg.DatabaseURL, cfg.DataDir); err != nil {
		return nil, err
	}
	if tracer != nil {
		a.db.AddQueryHook(tracing.Queries(tracer))
	}
	for _, o := range opts {
		o(a)
	}
	if err = a.db.Migrate(ctx); err != nil {
		return nil, err
	}
	if a.bucket, err = blob.OpenBucket(ctx, store.BucketURL(cfg.BlobURL)); err != nil {
		return nil, fmt.Errorf("KOE_BLOB_URL: %w", err)
	}
	if a.db.Postgres() {
		if a.pgBus, err = events.NewPostgres(ctx, a.db.Pool, log); err != nil {
			return nil, err
		}
		a.bus = a.pgBus
	} else {
		a.bus = events.NewMemory()
	}

	if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("KOE_ADDR: %w", err)
	}
	a.URL = cfg.PublicURL
	if a.URL == "" {
		a.URL = localURL(a.listener.Addr())
	}
	catalog := voice.NewCatalog(voice.CatalogConfig{DB: a.db, Bus: a.bus, PublicURL: a.URL, Engines: a.engines(), Log: log})
	a.auth = auth.NewService(a.db)
	if cfg.FirebaseProjectID != "" {
		verifier, err := firebaseAuth(ctx, cfg)
		if err != nil {
			return nil, err
		}
		a.auth.EnableFirebase(verifier)
	}
	// Replicas starting together take turns, so exactly one makes the admin.
	err = a.db.Exclusive(ctx, func(ctx context.Context) error {
		if err := catalog.Sync(ctx); err != nil {
			return err
		}
		a.AdminKey, err = a.auth.Bootstrap(ctx, cfg.AdminAPIKey)
		return err
	})
	if err != nil {
		return nil, err
	}
	encoder := tts.Encoder{LameBinary: cfg.LamePath, OpusencBinary: cfg.OpusencPath}

	plans := billing.NewPlans(a.db)
	planOf := principalPlan(plans)
	ledger := usage.NewService(a.db)
	payments := billing.NewStripe(billing.StripeConfig{
		SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase,
	}, a.db, plans, ledger, log)

	// River: one client per process, on database/sql so jobs can be inserted
	// inside bun transactions; on PostgreSQL it runs on connections of its
	// own and listens through pgx. On SQLite a queued generation wakes its
	// listener (KOE_JOB_WAKE), which would otherwise poll.
	var (
		driver riverdriver.Driver[*sql.Tx]
		queued func()
	)
	if a.db.Postgres() {
		driver = riverdatabasesql.NewWithPgxListener(a.db.Jobs, a.db.JobsPool)
	} else if cfg.JobWake {
		sqlite := riverwake.New(a.db.DB.DB)
		driver, queued = sqlite, sqlite.Wake
	} else {
		driver = riversqlite.New(a.db.DB.DB)
	}
	lexicons := lexicon.NewService(a.db)
	gens := generation.NewService(generation.Config{
		DB: a.db, Voices: catalog, Encoder: encoder, Bus: a.bus, Log: log, MaxTextChars: cfg.MaxTextChars,
		Quota: ledger, Lexicon: lexicons, Queued: queued,
		Limits: func(ctx context.Context, p auth.Principal) (generation.PlanLimits, bool, error) {
			pl, unlimited, err := planOf(ctx, p)
			if err != nil || unlimited {
				return generation.PlanLimits{}, unlimited, err
			}
			return generation.PlanLimits{Concurrent: pl.MaxConcurrentGenerations, MaxCharacters: pl.MaxCharactersPerGeneration,
				MaxAudioSeconds: pl.MaxAudioSecondsPerGeneration}, false, nil
		},
	})
	secret := cfg.SigningSecret
	if secret == "" {
		if secret, err = a.db.Setting(ctx, "signing_secret", randomSecret); err != nil {
			return nil, err
		}
	}
	if a.sender, err = sender(cfg, log); err != nil {
		return nil, err
	}
	mail := outbox.New(a.db, a.sender, cfg.EmailRate, log)
	links := messageLinks{app: cmp.Or(cfg.AppURL, a.URL), unsubscribe: email.NewUnsubscriber([]byte(secret+":unsubscribe"), a.URL)}
	notifications := notification.NewService(a.db, a.bus, mail, email.Render, links, log)
	broadcasts := outbox.NewBroadcasts(mail, links.composeBroadcast)

	workers := river.NewWorkers()
	river.AddWorker(workers, outbox.NewSendWorker(mail))
	river.AddWorker(workers, outbox.NewSweepWorker(mail))
	river.AddWorker(workers, outbox.NewReleaseWorker(broadcasts))
	river.AddWorker(workers, notification.NewDispatchWorker(notifications))
	river.AddWorker(workers, generation.NewWorker(gens, a.bucket, cfg.SynthConcurrency, cfg.JobTimeout))
	river.AddWorker(workers, generation.NewDeleteAudioWorker(a.bucket))
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(2*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return notification.DispatchArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(5*time.Second),
			func() (river.JobArgs, *river.InsertOpts) { return outbox.ReleaseArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return outbox.SweepArgs{}, nil }, nil),
	}
	if payments != nil {
		// Overage goes to Stripe's meter once a minute, from one replica.
		meter := billing.NewMeter(a.db, billing.NewStripeMeter(payments, cfg.StripeMeterEvent))
		river.AddWorker(workers, billing.NewMeterWorker(meter))
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return billing.MeterArgs{}, nil }, nil))
	}
	riverCfg := &river.Config{
		Workers: workers,
		Logger:  riverLogger(log),
		// Past the generation job's timeout: a job running longer than this
		// belongs to a process that died, and runs again elsewhere. (On
		// SQLite, Start does not wait that long: see rescueOrphans.)
		RescueStuckJobsAfter: cfg.JobTimeout*11/10 + 5*time.Second,
		JobTimeout:           cfg.JobTimeout,
		FetchCooldown:        20 * time.Millisecond,
		PeriodicJobs:         periodic,
		FetchPollInterval:    250 * time.Millisecond,
	}
	if tracer != nil {
		// A job's span links back to the request that queued it.
		riverCfg.Middleware = []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider: tracer, MeterProvider: tracing.NoMetrics, EnableTracePropagation: true, EnableWorkSpanJobKindSuffix: true,
		})}
	}
	if cfg.Role.RunsJobs() {
		riverCfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			generation.Queue:   {MaxWorkers: cfg.JobWorkers},
			outbox.Queue:       {MaxWorkers: 16}, // waiting on mail servers, not on CPU
		}
	}
	if a.river, err = river.NewClient(driver, riverCfg); err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	gens.SetJobs(a.river)
	mail.SetJobs(a.river)

	signer := signedurl.New([]byte(secret), a.URL, cfg.AudioURLTTL)
	limits := &httpapi.Limits{
		Limiter: ratelimit.NewMemory(), Log: log,
		Of: func(ctx context.Context, p auth.Principal) (httpapi.PlanLimits, bool, error) {
			pl, unlimited, err := planOf(ctx, p)
			if err != nil || unlimited {
				return httpapi.PlanLimits{}, unlimited, err
			}
			return httpapi.PlanLimits{RequestsPerMinute: pl.RequestsPerMinute, Websockets: pl.MaxWebsockets, Subscriptions: pl.MaxSubscriptions}, false, nil
		},
		Anonymous:             httpapi.PlanLimits{RequestsPerMinute: cfg.AnonymousRPM, Websockets: 5},
		AuthFailuresPerMinute: cfg.AuthFailuresPerMinute,
		Failures:              ratelimit.NewMemory(),
		TrustedProxies:        cfg.TrustedProxies,
	}
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("KOE_REDIS_URL: %w", err)
		}
		a.redis = redis.NewClient(opts)
		if err := a.redis.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("KOE_REDIS_URL: %w", err)
		}
		limits.Limiter = ratelimit.NewRedis(a.redis, "koe:ratelimit:")
	}
	a.ws = &httpapi.Websocket{CheckOrigin: httpapi.OriginChecker(cfg.AllowedOrigins)}
	// A revoked key's sockets end, and the key is forgotten, on every
	// replica: the revoking one publishes, each closes its own.
	sockets := httpapi.NewSockets()
	a.bus.Subscribe(apiKeyRevokedTopic, func(keyID []byte) {
		if keyID == nil {
			// The bus may have lost announcements.
			a.auth.ForgetKeys()
			go sockets.RecheckAll(context.Background())
			return
		}
		a.auth.ForgetKey(string(keyID))
		sockets.CloseKey(string(keyID))
	})
	a.auth.OnRevoke(func(ctx context.Context, keyID string) {
		if err := a.bus.Publish(ctx, []byte(keyID), apiKeyRevokedTopic); err != nil {
			log.WarnContext(ctx, "publish key revocation", "err", err)
		}
	})
	// A user whose role or plan changed, or who was disabled or enabled, is
	// read again on every replica, and their open sockets checked against
	// what they may do now (off the bus's goroutine: checking may read the
	// database).
	a.bus.Subscribe(userChangedTopic, func(userID []byte) {
		if userID == nil {
			a.auth.ForgetKeys()
			go sockets.RecheckAll(context.Background())
			return
		}
		a.auth.ForgetUser(string(userID))
		go sockets.RecheckUser(context.Background(), string(userID))
	})
	userChanged := func(ctx context.Context, userID string) {
		a.auth.ForgetUser(userID)
		if err := a.bus.Publish(ctx, []byte(userID), userChangedTopic); err != nil {
			log.WarnContext(ctx, "publish user change", "err", err)
		}
	}
	a.auth.OnUserChange(userChanged)
	payments.OnPlanChange(userChanged)
	schema := generated.NewExecutableSchema(generated.Config{
		Resolvers: &resolvers.Resolver{
			AuthService: a.auth, VoiceCatalog: catalog, GenerationService: gens, PlanCatalog: plans, Usage: ledger, Payments: payments, KPIs: kpi.NewService(a.db),
			NotificationService: notifications, BroadcastService: broadcasts, LexiconService: lexicons,
			Signer: signer,
		},
		Directives: resolvers.Directives(),
		Complexity: resolvers.Complexity(),
	})
	gql := httpapi.NewGraphQL(httpapi.GraphQLConfig{
		Schema: schema, Authenticator: a.auth, Websocket: a.ws, Sockets: sockets, Limits: limits, Introspection: cfg.Introspection, Log: log, Tracer: tracer,
		Loaders: loaders.Sources{Users: a.auth.UsersByID, Plans: plans.ByCode},
	})
	previews := voice.NewPreviews(catalog, a.bucket, encoder)
	gauges := metrics.NewGauges()
	gauges.Add("koe_websockets_open", "Open websockets in this process.", func() float64 { return float64(a.ws.Open()) })
	gauges.AddVec("koe_jobs", "River jobs by state (queue depth is available + scheduled + retryable).", "state", a.jobs.read(a.jobCounts))
	handler := httpapi.NewHandler(httpapi.Config{
		GraphQL: gql, Authenticator: a.auth, Limits: limits, Bucket: a.bucket, StripeWebhook: payments.HandleWebhook,
		Unsubscribe: func(ctx context.Context, token string) error {
			userID, pref, err := links.unsubscribe.Parse(token)
			if err != nil {
				return apperror.Invalid("t", "the unsubscribe link is not valid")
			}
			return notifications.Unsubscribe(ctx, userID, pref)
		}, Signer: signer, Previews: previews.Key, Lexicon: lexicons,
		Ready: a.readiness, Playground: cfg.Playground, WebDir: cfg.WebDir, Web: webConfig(cfg), AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes: cfg.MaxBodyBytes, Log: log, ServeAPI: cfg.Role.ServesAPI(), Gauges: gauges, Tracer: tracer,
		MetricsToken: cfg.MetricsToken,
	})
	a.gauges = gauges
	a.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      10 * time.Minute, // long enough to download large audio on a slow link
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// webConfig is what the web app learns from /app-config.json.
func webConfig(cfg config.Config) httpapi.WebConfig {
	w := httpapi.WebConfig{Billing: cfg.StripeSecretKey != ""}
	if cfg.Playground {
		p := "/"
		if cfg.WebDir != "" {
			p = "/playground"
		}
		w.Playground = &p
	}
	if cfg.FirebaseProjectID != "" && cfg.FirebaseWebAPIKey != "" {
		w.Firebase = &httpapi.FirebaseWebConfig{APIKey: cfg.FirebaseWebAPIKey, AuthDomain: cfg.FirebaseAuthDomain, ProjectID: cfg.FirebaseProjectID}
		if cfg.FirebaseEmulatorHost != "" {
			host := cfg.FirebaseWebEmulatorHost
			w.Firebase.EmulatorHost = &host
		}
	}
	return w
}

// observeJobs records how long each finished River job ran, by kind and
// final state, until the client stops.
func observeJobs(events <-chan *river.Event) {
	for e := range events {
		if e.Job != nil && e.JobStats != nil {
			metrics.JobDuration.WithLabelValues(e.Job.Kind, string(e.Job.State)).Observe(e.JobStats.RunDuration.Seconds())
		}
	}
}

// DB is the app's database, for tests that look under the API.
func (a *App) DB() *store.DB { return a.db }

// engines are the speech engines of this server: espeak-ng, Flite and
// Festival when they are installed, Open JTalk when it has a voice file,
// and an OpenAI-compatible server when KOE_OPENAI_TTS_URL is set. A missing
// engine only takes its voices away, said in one log line: the server runs
// with whatever engines are left, even none.
func (a *App) engines() []tts.Synthesizer {
	var engines []tts.Synthesizer
	// espeak-ng reads kanji as "Chinese letter": its Japanese voice is
	// given kana by the Japanese front end. Open JTalk and neural servers
	// read Japanese themselves, better than from kana.
	if espeak := (&tts.Espeak{Binary: a.cfg.EspeakPath}); a.installed(espeak, espeak.Binary, "espeak-ng") {
		a.helper(&espeak.Helper, a.cfg.EspeakHelper, "espeak-ng")
		engines = append(engines, tts.Traced(ja.FrontEnd(espeak)))
	}
	if flite := (&tts.Flite{Binary: a.cfg.FlitePath}); a.installed(flite, flite.Binary, "flite") {
		a.helper(&flite.Helper, a.cfg.FliteHelper, "flite")
		engines = append(engines, tts.Traced(flite))
	}
	festival := &tts.Festival{Binary: a.cfg.FestivalPath, Workers: a.cfg.SynthConcurrency, IdleTimeout: a.cfg.EngineIdleTimeout}
	if a.installed(festival, festival.Binary, "festival festvox-us-slt-hts festvox-kallpc16k") {
		a.festival = festival
		engines = append(engines, tts.Traced(festival))
	}
	if jtalk := a.openJTalk(); jtalk != nil {
		engines = append(engines, tts.Traced(jtalk))
	}
	if a.cfg.OpenAITTSURL != "" {
		engines = append(engines, tts.Traced(&tts.OpenAI{
			BaseURL: a.cfg.OpenAITTSURL, APIKey: a.cfg.OpenAITTSKey, Model: a.cfg.OpenAITTSModel, VoiceNames: a.cfg.OpenAITTSVoices,
		}))
	}
	return engines
}

// installed reports whether e's program is here and e has voices; when
// not, one log line says its voices are off and how to install it.
func (a *App) installed(e tts.Synthesizer, binary, packages string) bool {
	err := func() error {
		if _, err := exec.LookPath(binary); err != nil {
			return err
		}
		_, err := e.Voices(context.Background())
		return err
	}()
	if err != nil {
		a.log.Warn(e.Engine()+" voices are off: run `make deps` (Debian: apt-get install "+packages+")", "error", err)
		return false
	}
	return true
}

// helper gives an engine its warm helper program (koe-espeak, koe-flite)
// when it is here and answers: without it, each chunk starts the engine's
// own program, which costs more CPU than a short chunk's speech. A missing
// helper is said in one log line, and the engine speaks all the same.
func (a *App) helper(h *tts.Helper, program, engine string) {
	path, err := exec.LookPath(program)
	if err == nil {
		h.Program, h.Workers, h.IdleTimeout = path, a.cfg.SynthConcurrency, a.cfg.EngineIdleTimeout
		if err = h.Warm(context.Background()); err == nil {
			a.helpers = append(a.helpers, h)
			return
		}
		_ = h.Close()
		h.Program = ""
	}
	a.log.Warn(engine+" speaks with one process per chunk, slower: no working helper "+program+" (`make run` builds it)", "error", err)
}

// openJTalk is Open JTalk when its program, its dictionary and at least one
// voice file are here. Debian ships no voice file, so it is often absent:
// one log line says why, and its voices are not offered.
func (a *App) openJTalk() *tts.OpenJTalk {
	o := &tts.OpenJTalk{Binary: a.cfg.OpenJTalkPath, Dictionary: a.cfg.OpenJTalkDictionary, VoiceDir: a.cfg.OpenJTalkVoices}
	var off string
	if _, err := exec.LookPath(o.Binary); err != nil {
		off = o.Binary + " is not installed (Debian: apt-get install open-jtalk open-jtalk-mecab-naist-jdic)"
	} else if _, err := os.Stat(filepath.Join(o.Dictionary, "sys.dic")); err != nil {
		off = "no dictionary in " + o.Dictionary + " (KOE_OPENJTALK_DICTIONARY; Debian: open-jtalk-mecab-naist-jdic)"
	} else if voices, err := o.Voices(context.Background()); err != nil || len(voices) == 0 {
		off = "no .htsvoice file in " + o.VoiceDir + " (KOE_OPENJTALK_VOICES)"
	}
	if off != "" {
		// Worth a warning only when an operator asked for voices.
		level := slog.LevelInfo
		if a.cfg.OpenJTalkVoices != config.DefaultOpenJTalkVoices {
			level = slog.LevelWarn
		}
		a.log.Log(context.Background(), level, "Open JTalk voices are off: "+off)
		return nil
	}
	return o
}

// firebaseAuth returns the Firebase Admin SDK's token verifier. In
// production it uses Google's default credentials; with the Auth emulator it
// needs none (the SDK reads FIREBASE_AUTH_EMULATOR_HOST from the process
// environment only, so the configured value is put there).
func firebaseAuth(ctx context.Context, cfg config.Config) (*fbauth.Client, error) {
	var opts []option.ClientOption
	if cfg.FirebaseEmulatorHost != "" {
		if err := os.Setenv("FIREBASE_AUTH_EMULATOR_HOST", cfg.FirebaseEmulatorHost); err != nil {
			return nil, err
		}
		opts = append(opts, option.WithoutAuthentication())
	}
	fb, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.FirebaseProjectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("FIREBASE_PROJECT_ID: %w", err)
	}
	client, err := fb.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase auth: %w", err)
	}
	return client, nil
}

// sender is how email leaves: SMTP, SendGrid, or the log.
func sender(cfg config.Config, log *slog.Logger) (email.Sender, error) {
	switch {
	case cfg.SMTPURL != "":
		s, err := email.NewSMTP(cfg.SMTPURL, cfg.EmailFrom)
		if err != nil {
			return nil, fmt.Errorf("KOE_SMTP_URL: %w", err)
		}
		return s, nil
	case cfg.SendGridAPIKey != "":
		return email.NewSendGrid(cfg.SendGridAPIKey, cfg.EmailFrom, cfg.SendGridBaseURL), nil
	}
	return email.NewLog(log), nil
}

// messageLinks are the links email carries: pages of the web app and signed
// unsubscribe links served by this API.
type messageLinks struct {
	app         string
	unsubscribe *email.Unsubscriber
}

func (l messageLinks) App(path string) string { return l.app + path }

func (l messageLinks) Unsubscribe(userID, preference string) string {
	return l.unsubscribe.URL(userID, preference)
}

// composeBroadcast renders a broadcast for one recipient, in their language
// (its translation into it, when it has one), with a link that turns product
// news off.
func (l messageLinks) composeBroadcast(bc *outbox.Broadcast, r outbox.Recipient) (outbox.Mail, error) {
	unsubscribe := l.Unsubscribe(r.UserID, notification.PrefProductNews)
	words := bc.In(r.Locale)
	data := map[string]any{"Name": r.Name, "Subject": words.Subject, "Text": words.TextBody, "Unsubscribe": unsubscribe}
	if words.HTMLBody != nil {
		data["HTML"] = *words.HTMLBody
	}
	subject, text, html, err := email.Render("broadcast", r.Locale, data)
	return outbox.Mail{To: r.Email, ToName: r.Name, Subject: subject, Text: text, HTML: html, Unsubscribe: unsubscribe}, err
}

// principalPlan returns a principal's plan for limits checked on every
// request (from a cache at most 30 s old); unlimited for operators.
func principalPlan(plans *billing.Plans) func(context.Context, auth.Principal) (*billing.Plan, bool, error) {
	return func(ctx context.Context, p auth.Principal) (*billing.Plan, bool, error) {
		if p.IsAdmin() {
			return nil, true, nil
		}
		pl, err := plans.Cached(ctx, p.PlanCode)
		if err == nil && pl == nil {
			err = errors.New("no such plan")
		}
		if err != nil {
			return nil, false, fmt.Errorf("limits of plan %q: %w", p.PlanCode, err)
		}
		return pl, false, nil
	}
}

// localURL is the URL of a listening address, with "localhost" for the
// unspecified address (":8080" listens on every interface).
func localURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// riverLogger keeps River's routine chatter out of the logs.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{log.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(attrs), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}

// Start serves HTTP and, by role, works jobs, in the background. Shutdown
// stops it.
func (a *App) Start(ctx context.Context) error {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if a.pgBus != nil {
		listening := make(chan struct{})
		a.goRun(func() { a.pgBus.Run(ctx, listening) })
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			return errors.New("events: LISTEN did not start within 10s")
		}
	}
	if a.cfg.Role.RunsJobs() && !a.db.Postgres() {
		if err := a.rescueOrphans(ctx); err != nil {
			return err
		}
	}
	if a.cfg.Role.RunsJobs() {
		jobEvents, _ := a.river.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
		go observeJobs(jobEvents)
		if err := a.river.Start(ctx); err != nil {
			return fmt.Errorf("river: %w", err)
		}
	}
	if a.cfg.DebugAddr != "" {
		if err := a.startDebug(); err != nil {
			return err
		}
	}
	if a.cfg.MetricsAddr != "" {
		if err := a.startMetrics(); err != nil {
			return err
		}
	}
	a.goRun(func() { a.auth.RunLastUsed(ctx) })
	a.goRun(func() {
		if err := a.server.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	})
	a.ready.Store(true)
	return nil
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// readiness is /readyz: the database answers and the server is not draining.
func (a *App) readiness(ctx context.Context) error {
	if !a.ready.Load() {
		return errors.New("starting or shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.db.PingContext(ctx); err != nil {
		return errors.New("database unreachable")
	}
	return nil
}

// Shutdown drains in order: readiness goes false, HTTP stops taking
// requests, websockets are closed with 1001 so clients reconnect elsewhere,
// running jobs get until ctx's deadline to finish (then they are canceled and
// River queues them again), and the database closes last.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	a.stopOnce.Do(func() {
		a.ready.Store(false)
		if a.debug != nil {
			_ = a.debug.Close()
		}
		if a.metrics != nil {
			_ = a.metrics.Close()
		}
		if a.server != nil {
			if err := a.server.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http: %w", err))
			}
			a.ws.CloseAll(1001, "server shutting down")
		}
		if a.river != nil && a.cfg.Role.RunsJobs() {
			if err := a.river.Stop(ctx); err != nil {
				a.log.Warn("jobs did not finish in time; canceling them to run again later", "err", err)
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				_ = a.river.StopAndCancel(cctx)
				cancel()
			}
		}
		if a.cancel != nil {
			a.cancel()
		}
		a.wg.Wait()
		a.closeResources()
	})
	return errors.Join(errs...)
}

func (a *App) closeResources() {
	if a.listener != nil && a.server == nil {
		_ = a.listener.Close()
	}
	if a.bucket != nil {
		_ = a.bucket.Close()
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.sender != nil {
		_ = a.sender.Close()
	}
	if a.db != nil {
		_ = a.db.Close()
	}
	for _, h := range a.helpers {
		_ = h.Close()
	}
	if a.festival != nil {
		_ = a.festival.Close()
	}
	if a.tracer != nil {
		// The last spans go out, for as long as the exporter's timeout.
		_ = a.tracer.Shutdown(context.Background())
	}
}
