// Package voice is the voice catalog: the voices every engine offers, synced
// into the database at start with stable ids, filtered and paged for the API,
// switched on and off by operators, and previewed with a short cached sample.
package voice

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/tts"
)

// Voice is a voice of the catalog.
type Voice struct {
	bun.BaseModel `bun:"table:voices"`

	// ID is "<engine>:<name>", stable across restarts and syncs.
	ID            string   `bun:"id,pk"`
	Engine        string   `bun:"engine,notnull"`
	EngineVoiceID string   `bun:"engine_voice_id,notnull"`
	Name          string   `bun:"name,notnull"`
	Language      string   `bun:"language,notnull"`
	LanguageName  string   `bun:"language_name,notnull"`
	Gender        *string  `bun:"gender"`
	Description   *string  `bun:"description"`
	Tags          []string `bun:"tags,notnull"`
	Enabled       bool     `bun:"enabled,notnull"`
	// SearchText is what search matches: name, language, language name and
	// tags, lower case, one per line.
	SearchText string `bun:"search_text,notnull"`
	// Available is false when the engine no longer offers the voice; such
	// voices stay for old generations but are not listed.
	Available bool      `bun:"available,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// Usable reports whether new generations may use the voice.
func (v *Voice) Usable() bool { return v.Enabled && v.Available }

// Filter narrows List; zero fields match everything.
type Filter struct {
	Language string
	Engine   string
	Gender   string
	Search   string
	// IncludeDisabled lists disabled voices too (for operators).
	IncludeDisabled bool
	// Enabled, when set, keeps only voices switched on (true) or off.
	Enabled *bool
}

// Catalog is the voice catalog.
type Catalog struct {
	db      *store.DB
	engines map[string]tts.Synthesizer
	now     func() time.Time
}

// NewCatalog returns the catalog of the given engines on db.
func NewCatalog(db *store.DB, engines ...tts.Synthesizer) *Catalog {
	c := &Catalog{db: db, engines: map[string]tts.Synthesizer{}, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	for _, e := range engines {
		c.engines[e.Engine()] = e
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
// offer unavailable. Operator choices (enabled) survive a sync.
func (c *Catalog) Sync(ctx context.Context) error {
	now := c.now()
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
				Language: o.Language, LanguageName: o.LanguageName, Gender: nonEmpty(o.Gender), Description: nonEmpty(o.Description),
				Tags: o.Tags, Enabled: true, Available: true, CreatedAt: now, UpdatedAt: now,
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
					Set("tags = EXCLUDED.tags").Set("search_text = EXCLUDED.search_text").Set("available = EXCLUDED.available").
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
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var languagePattern = regexp.MustCompile(`^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// List returns a page of voices ordered by language, name and id.
func (c *Catalog) List(ctx context.Context, f Filter, req page.Request) (page.Page[*Voice], error) {
	if f.Language != "" && !languagePattern.MatchString(f.Language) {
		return page.Page[*Voice]{}, apperror.Invalid("filter.language", "must be a BCP 47 tag or prefix such as en or pt-BR")
	}
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("available")
		if !f.IncludeDisabled {
			q = q.Where("enabled")
		}
		if f.Enabled != nil {
			q = q.Where("enabled = ?", *f.Enabled)
		}
		if f.Language != "" {
			l := strings.ToLower(f.Language)
			q = q.Where(`(lower(language) = ? OR lower(language) LIKE ? ESCAPE '\')`, l, store.EscapeLike(l)+"-%")
		}
		if f.Engine != "" {
			q = q.Where("engine = ?", f.Engine)
		}
		if f.Gender != "" {
			q = q.Where("gender = ?", f.Gender)
		}
		if s := strings.ToLower(strings.TrimSpace(f.Search)); s != "" {
			like := "%" + store.EscapeLike(s) + "%"
			q = q.Where(`search_text LIKE ? ESCAPE '\'`, like)
		}
		return q
	}
	total, err := where(c.db.NewSelect().Model((*Voice)(nil))).Count(ctx)
	if err != nil {
		return page.Page[*Voice]{}, fmt.Errorf("count voices: %w", err)
	}
	var voices []*Voice
	q := where(c.db.NewSelect().Model(&voices)).Order("language", "name", "id").Limit(req.Limit())
	if a := req.After; a != nil {
		q = q.Where("(language > ? OR (language = ? AND name > ?) OR (language = ? AND name = ? AND id > ?))", a[0], a[0], a[1], a[0], a[1], a[2])
	}
	if err := q.Scan(ctx); err != nil {
		return page.Page[*Voice]{}, fmt.Errorf("list voices: %w", err)
	}
	return page.Trim(voices, req, int(total)), nil
}

// Cursor is the page cursor of v in List's order.
func Cursor(v *Voice) string { return page.Cursor(v.Language, v.Name, v.ID) }

// ByID returns the voices with the given ids, disabled or not; missing ones
// are absent.
func (c *Catalog) ByID(ctx context.Context, ids []string) (map[string]*Voice, error) {
	var voices []*Voice
	if err := c.db.NewSelect().Model(&voices).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load voices: %w", err)
	}
	out := make(map[string]*Voice, len(voices))
	for _, v := range voices {
		out[v.ID] = v
	}
	return out, nil
}

// Get returns one voice: NOT_FOUND when there is none.
func (c *Catalog) Get(ctx context.Context, id string) (*Voice, error) {
	v := new(Voice)
	if err := c.db.NewSelect().Model(v).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperror.New(apperror.NotFound, "no voice %s", id)
		}
		return nil, fmt.Errorf("get voice: %w", err)
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
	return c.Get(ctx, id)
}
