// Package voice is the voice catalog: the voices every engine offers, synced
// into the database at start with stable ids, filtered and paged for the API,
// switched on and off by operators, and previewed with a short cached sample.
package voice

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/tts"
)

// Voice is a voice of the catalog. The catalog shares its voices between
// requests: treat them as read-only.
type Voice struct {
	bun.BaseModel `bun:"table:voices"`

	// ID is "<engine>:<name>", stable across restarts and syncs.
	ID            string   `bun:"id,pk"`
	Engine        string   `bun:"engine,notnull"`
	EngineVoiceID string   `bun:"engine_voice_id,notnull"`
	Name          string   `bun:"name,notnull"`
	Language      string   `bun:"language,notnull"`
	LanguageName  string   `bun:"language_name,notnull"`
	Gender        *Gender  `bun:"gender"`
	Description   *string  `bun:"description"`
	Tags          []string `bun:"tags,notnull"`
	// Quality is how natural the voice sounds; never zero (an engine that
	// names no tier is taken at the lowest).
	Quality tts.Quality `bun:"quality,notnull"`
	Enabled bool        `bun:"enabled,notnull"`
	// SearchText is what search matches: name, language, language name and
	// tags, lower case, one per line.
	SearchText string `bun:"search_text,notnull"`
	// Available is false when the engine no longer offers the voice; such
	// voices stay for old generations but are not listed.
	Available bool      `bun:"available,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	// PreviewURL is where its sample is played: the server's
	// /voices/{id}/preview.
	PreviewURL string `bun:"-"`
}

// Gender is a voice's perceived gender, named as the API's enum names it.
type Gender string

// The genders an engine may give a voice.
const (
	GenderFemale  Gender = "FEMALE"
	GenderMale    Gender = "MALE"
	GenderNeutral Gender = "NEUTRAL"
)

// genderOf is the Gender an engine named, nil when it named none the API
// knows.
func genderOf(s string) *Gender {
	switch g := Gender(s); g {
	case GenderFemale, GenderMale, GenderNeutral:
		return &g
	}
	return nil
}

// Usable reports whether new generations may use the voice.
func (v *Voice) Usable() bool { return v.Enabled && v.Available }

// Filter narrows List; zero fields match everything.
type Filter struct {
	// Language is a BCP 47 tag or prefix, matched in any case.
	Language string
	Engine   string
	Gender   Gender
	// Search is matched, in any case, inside the name, language, language
	// name and tags.
	Search string
	// IncludeDisabled lists disabled voices too (for operators).
	IncludeDisabled bool
	// Enabled, when set, keeps only voices switched on (true) or off.
	Enabled *bool
}

// Catalog is the voice catalog. It answers from a copy of every voice held
// in memory: the API lists voices on most pages and every generation names
// one, while voices change only when engines are synced or an operator
// switches one. A change drops the copy here and, through the bus, on every
// replica; the next read loads a new one.
type Catalog struct {
	db         *store.DB
	bus        events.Bus
	log        *slog.Logger
	publicURL  string
	engines    map[string]tts.Synthesizer
	now        func() time.Time
	loading    sync.Mutex
	current    atomic.Pointer[snapshot]
	changes    atomic.Uint64
	maxCopyAge time.Duration
}

// CatalogConfig is what a Catalog works with.
type CatalogConfig struct {
	DB *store.DB
	// Bus tells the other replicas that the catalog changed; nil in a
	// process that is alone.
	Bus events.Bus
	// PublicURL is where clients reach this server, without a trailing
	// slash; voices' preview URLs start with it.
	PublicURL string
	// Engines are the synthesizers whose voices the catalog holds.
	Engines []tts.Synthesizer
	// Log is where a change that could not be announced is told; nil
	// means slog's default.
	Log *slog.Logger
}

// changedTopic is the bus topic on which a catalog change is announced.
const changedTopic = "voices.changed"

// maxCopyAge bounds how long a replica keeps a copy if a change's
// announcement is lost (the bus was down when it was sent).
const maxCopyAge = time.Minute

// NewCatalog returns the catalog of cfg's engines.
func NewCatalog(cfg CatalogConfig) *Catalog {
	c := &Catalog{
		db: cfg.DB, bus: cfg.Bus, log: cmp.Or(cfg.Log, slog.Default()), publicURL: cfg.PublicURL, engines: map[string]tts.Synthesizer{},
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, maxCopyAge: maxCopyAge,
	}
	for _, e := range cfg.Engines {
		c.engines[e.Engine()] = e
	}
	if c.bus != nil {
		// A nil payload (the bus reconnected, announcements may be lost)
		// drops the copy too.
		c.bus.Subscribe(changedTopic, func([]byte) { c.drop() })
	}
	return c
}

// Engine returns the synthesizer behind a voice.
func (c *Catalog) Engine(v *Voice) (tts.Synthesizer, bool) {
	e, ok := c.engines[v.Engine]
	return e, ok
}

// ID is the catalog id of an engine's voice: the engine, a colon, and the
// last path element of the engine's id in lower case ("espeak-ng:en-us").
func ID(engine, engineVoiceID string) string {
	return engine + ":" + strings.ToLower(path.Base(engineVoiceID))
}

// Sync upserts every voice the engines offer and marks the ones they no longer
// offer unavailable, with the voices of engines this server does not have
// (uninstalled since the last start). Operator choices (enabled) survive a
// sync.
func (c *Catalog) Sync(ctx context.Context) error {
	now := c.now()
	q := c.db.NewUpdate().Table("voices").Set("available = ?", false).Set("updated_at = ?", now).Where("available")
	if len(c.engines) > 0 {
		q = q.Where("engine NOT IN (?)", bun.In(slices.Collect(maps.Keys(c.engines))))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("sync voices of absent engines: %w", err)
	}
	for name, e := range c.engines {
		offered, err := e.Voices(ctx)
		if err != nil {
			return fmt.Errorf("sync voices of %s: %w", name, err)
		}
		voices := make([]*Voice, 0, len(offered))
		ids := make([]string, 0, len(offered))
		for _, o := range offered {
			v := &Voice{
				ID: ID(name, o.EngineVoiceID), Engine: name, EngineVoiceID: o.EngineVoiceID, Name: o.Name,
				Language: o.Language, LanguageName: o.LanguageName, Gender: genderOf(o.Gender), Description: nonEmpty(o.Description),
				Tags: o.Tags, Quality: cmp.Or(o.Quality, tts.QualityBasic), Enabled: true, Available: true, CreatedAt: now, UpdatedAt: now,
			}
			if v.Tags == nil {
				v.Tags = []string{}
			}
			v.SearchText = strings.ToLower(strings.Join(append([]string{v.Name, v.Language, v.LanguageName}, v.Tags...), "\n"))
			voices = append(voices, v)
			ids = append(ids, v.ID)
		}
		err = c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if len(voices) > 0 {
				if _, err := tx.NewInsert().Model(&voices).On("CONFLICT (id) DO UPDATE").
					Set("engine_voice_id = EXCLUDED.engine_voice_id").Set("name = EXCLUDED.name").
					Set("language = EXCLUDED.language").Set("language_name = EXCLUDED.language_name").
					Set("gender = EXCLUDED.gender").Set("description = EXCLUDED.description").
					Set("tags = EXCLUDED.tags").Set("quality = EXCLUDED.quality").Set("search_text = EXCLUDED.search_text").Set("available = EXCLUDED.available").
					Set("updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
					return err
				}
			}
			q := tx.NewUpdate().Table("voices").Set("available = ?", false).Set("updated_at = ?", now).
				Where("engine = ?", name).Where("available")
			if len(ids) > 0 {
				q = q.Where("id NOT IN (?)", bun.In(ids))
			}
			_, err := q.Exec(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("sync voices of %s: %w", name, err)
		}
	}
	c.changed(ctx)
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var languagePattern = regexp.MustCompile(`^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// List returns a page of voices in catalog order: by base language, the
// best voices of each first (quality tier, highest first), then by name and
// id (bytewise, whatever the database's collation). A cursor of the order
// before quality counted (three values) is BAD_USER_INPUT on "after".
func (c *Catalog) List(ctx context.Context, f Filter, req page.Request) (page.Page[*Voice], error) {
	if f.Language != "" && !languagePattern.MatchString(f.Language) {
		return page.Page[*Voice]{}, apperror.Invalid("filter.language", "must be a BCP 47 tag or prefix such as en or pt-BR")
	}
	var from *listKey
	if req.After != nil {
		k, err := parseKey(req.After)
		if err != nil {
			return page.Page[*Voice]{}, err
		}
		from = &k
	}
	s, err := c.snapshot(ctx)
	if err != nil {
		return page.Page[*Voice]{}, err
	}
	language, search := strings.ToLower(f.Language), strings.ToLower(strings.TrimSpace(f.Search))
	var (
		rows  []*Voice
		total int
	)
	for _, v := range s.listed {
		switch {
		case !v.Enabled && !f.IncludeDisabled,
			f.Enabled != nil && v.Enabled != *f.Enabled,
			language != "" && !hasLanguage(v, language),
			f.Engine != "" && v.Engine != f.Engine,
			f.Gender != "" && (v.Gender == nil || *v.Gender != f.Gender),
			search != "" && !strings.Contains(v.SearchText, search):
			continue
		}
		total++
		if int64(len(rows)) < req.Limit() && (from == nil || compareKeys(keyOf(v), *from) > 0) {
			rows = append(rows, v)
		}
	}
	return page.Trim(rows, req, total), nil
}

// Language is a base language the catalog speaks.
type Language struct {
	// Tag is the BCP 47 base language ("en", "ja").
	Tag string
	// Name is its English name, as its best voice gives it.
	Name string
	// Voices counts the voices that speak it, variants included.
	Voices int
}

// Languages lists the base languages of the available voices, by tag, with
// how many voices speak each; disabled voices count only with
// includeDisabled.
func (c *Catalog) Languages(ctx context.Context, includeDisabled bool) ([]Language, error) {
	s, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []Language
	index := map[string]int{}
	for _, v := range s.listed {
		if !v.Enabled && !includeDisabled {
			continue
		}
		base := baseLanguage(v.Language)
		i, ok := index[base]
		if !ok {
			i = len(out)
			index[base] = i
			out = append(out, Language{Tag: base, Name: v.LanguageName})
		}
		out[i].Voices++
	}
	slices.SortFunc(out, func(a, b Language) int { return strings.Compare(a.Tag, b.Tag) })
	return out, nil
}

// hasLanguage reports whether v speaks language (lower case) or a variant of
// it: "en" matches "en-US".
func hasLanguage(v *Voice, language string) bool {
	l := strings.ToLower(v.Language)
	return l == language || strings.HasPrefix(l, language+"-")
}

// listKey is where a voice stands in List's order.
type listKey struct {
	base    string // the base language ("en" for "en-US")
	quality tts.Quality
	name    string
	id      string
}

func keyOf(v *Voice) listKey {
	return listKey{base: baseLanguage(v.Language), quality: v.Quality, name: v.Name, id: v.ID}
}

// compareKeys orders voices by base language, best first, then name and id.
func compareKeys(a, b listKey) int {
	return cmp.Or(strings.Compare(a.base, b.base), cmp.Compare(b.quality, a.quality), strings.Compare(a.name, b.name), strings.Compare(a.id, b.id))
}

// CursorLen is the number of values in a voice cursor.
const CursorLen = 4

// Cursor is the page cursor of v in List's order.
func Cursor(v *Voice) string {
	k := keyOf(v)
	return page.Cursor(k.base, strconv.Itoa(int(k.quality)), k.name, k.id)
}

// parseKey reads the values of a Cursor back.
func parseKey(values []string) (listKey, error) {
	invalid := apperror.Invalid("after", "is not a cursor from this connection")
	if len(values) != CursorLen {
		return listKey{}, invalid
	}
	q, err := strconv.Atoi(values[1])
	if err != nil {
		return listKey{}, invalid
	}
	return listKey{base: values[0], quality: tts.Quality(q), name: values[2], id: values[3]}, nil
}

// baseLanguage is the base language of a BCP 47 tag, in lower case.
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return base
}

// Get returns one voice: NOT_FOUND when there is none.
func (c *Catalog) Get(ctx context.Context, id string) (*Voice, error) {
	s, err := c.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	v, ok := s.byID[id]
	if !ok {
		return nil, apperror.New(apperror.NotFound, "no voice %s", id)
	}
	return v, nil
}

// SetEnabled switches a voice on or off for new generations.
func (c *Catalog) SetEnabled(ctx context.Context, id string, enabled bool) (*Voice, error) {
	res, err := c.db.NewUpdate().Table("voices").Set("enabled = ?", enabled).Set("updated_at = ?", c.now()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("set voice enabled: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, apperror.New(apperror.NotFound, "no voice %s", id)
	}
	c.changed(ctx)
	return c.Get(ctx, id)
}

// snapshot is every voice of the catalog as read at one moment.
type snapshot struct {
	byID map[string]*Voice
	// listed are the available voices in List's order.
	listed []*Voice
	read   time.Time
}

// snapshot returns the copy of the catalog, loading one if there is none or
// it is older than maxCopyAge.
func (c *Catalog) snapshot(ctx context.Context) (*snapshot, error) {
	if s := c.fresh(); s != nil {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if s := c.fresh(); s != nil {
		return s, nil // loaded while this one waited
	}
	changes := c.changes.Load()
	s := &snapshot{read: time.Now()}
	var voices []*Voice
	if err := c.db.NewSelect().Model(&voices).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load voices: %w", err)
	}
	s.byID = make(map[string]*Voice, len(voices))
	for _, v := range voices {
		v.PreviewURL = c.publicURL + "/voices/" + url.PathEscape(v.ID) + "/preview"
		s.byID[v.ID] = v
		if v.Available {
			s.listed = append(s.listed, v)
		}
	}
	slices.SortFunc(s.listed, func(a, b *Voice) int { return compareKeys(keyOf(a), keyOf(b)) })
	// A change announced while the voices were read may not be in them: use
	// them for this call, but do not keep them.
	if c.changes.Load() == changes {
		c.current.Store(s)
	}
	return s, nil
}

// fresh returns the copy if there is one younger than maxCopyAge, else nil.
func (c *Catalog) fresh() *snapshot {
	if s := c.current.Load(); s != nil && time.Since(s.read) < c.maxCopyAge {
		return s
	}
	return nil
}

// drop forgets the copy, so the next read loads the catalog anew.
func (c *Catalog) drop() {
	c.changes.Add(1)
	c.current.Store(nil)
}

// changed drops this process's copy and tells the other replicas to drop
// theirs. The change is committed already, so a failure to tell them is
// logged, not returned: their copies expire within maxCopyAge anyway.
func (c *Catalog) changed(ctx context.Context) {
	c.drop()
	if c.bus == nil {
		return
	}
	if err := c.bus.Publish(ctx, []byte("changed"), changedTopic); err != nil {
		c.log.WarnContext(ctx, "announce a voice catalog change", "err", err)
	}
}
