package lexicon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
)

// Service keeps people's lexicons.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns the lexicon service.
func NewService(db *store.DB) *Service {
	return &Service{db: db, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// conflictKey is what an entry is upserted by.
const conflictKey = "CONFLICT (user_id, grapheme, language)"

// Upsert adds the entry of in's (grapheme, language) to the user's
// lexicon, or changes its alias when there is one; it answers the entry.
// BAD_USER_INPUT names the field at fault ("input.grapheme", "input.alias",
// "input.language"), or "input" when the lexicon is full.
func (s *Service) Upsert(ctx context.Context, userID string, in Input) (*Entry, error) {
	in, err := normalize(in, inputFields)
	if err != nil {
		return nil, err
	}
	e := &Entry{ID: gid.New(gid.LexiconEntry), UserID: userID, Grapheme: in.Grapheme, Alias: in.Alias, Language: in.Language, CreatedAt: s.now()}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var existing []*Entry
		if err := tx.NewSelect().Model(&existing).Where("user_id = ? AND grapheme = ? AND language = ?", userID, e.Grapheme, e.Language).
			Scan(ctx); err != nil {
			return err
		}
		if len(existing) == 1 {
			e.ID, e.CreatedAt = existing[0].ID, existing[0].CreatedAt
			_, err := tx.NewUpdate().Model(e).Column("alias").WherePK().Exec(ctx)
			return err
		}
		n, err := tx.NewSelect().Model((*Entry)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxEntries {
			return apperror.Invalid("input", "a lexicon holds at most %d entries; delete one to add another", MaxEntries)
		}
		_, err = tx.NewInsert().Model(e).Exec(ctx)
		return err
	})
	if _, ok := apperror.As(err); ok {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("upsert lexicon entry: %w", err)
	}
	return e, nil
}

// lockUser makes the user's lexicon writes take turns on PostgreSQL, so two
// at once cannot both find room for one more entry. (On SQLite every write
// transaction takes the one connection.)
func (s *Service) lockUser(ctx context.Context, tx bun.Tx, userID string) error {
	if !s.db.Postgres() {
		return nil
	}
	_, err := tx.NewRaw("SELECT 1 FROM users WHERE id = ? FOR UPDATE", userID).Exec(ctx)
	return err
}

// List returns a page of the user's entries, newest first.
func (s *Service) List(ctx context.Context, userID string, req page.Request) (page.Page[*Entry], error) {
	list, err := page.Newest[*Entry](ctx, s.db.Read, req, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("user_id = ?", userID)
	})
	if err != nil {
		return list, fmt.Errorf("lexicon: %w", err)
	}
	return list, nil
}

// Cursor is the page cursor of e in List's order.
func Cursor(e *Entry) string { return page.Cursor(page.TimeKey(e.CreatedAt), e.ID) }

// Get returns one of the user's entries; nil when the user has no entry of
// that id (another person's included).
func (s *Service) Get(ctx context.Context, userID, id string) (*Entry, error) {
	var list []*Entry
	if err := s.db.NewSelect().Model(&list).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("lexicon entry: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list[0], nil
}

// Delete removes one of the user's entries: BAD_USER_INPUT on "id" for a
// malformed id, NOT_FOUND when the user has no entry of that id.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	if !gid.Is(id, gid.LexiconEntry) {
		return apperror.Invalid("id", "is not a pronunciation entry id")
	}
	res, err := s.db.NewDelete().Model((*Entry)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete lexicon entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperror.New(apperror.NotFound, "no pronunciation entry %s", id)
	}
	return nil
}

// Export writes the user's entries as a PLS document (see WritePLS): those
// of language (a BCP 47 tag, BAD_USER_INPUT on "language" when it is not
// one), or every entry when language is "".
func (s *Service) Export(ctx context.Context, userID, language string, w io.Writer) error {
	lang, err := canonicalLanguage(language, "language")
	if err != nil {
		return err
	}
	var entries []*Entry
	q := s.db.Read.NewSelect().Model(&entries).Where("user_id = ?", userID)
	if language != "" {
		q = q.Where("language = ?", lang)
	}
	if err := q.Order("language", "grapheme", "id").Scan(ctx); err != nil {
		return fmt.Errorf("export lexicon: %w", err)
	}
	return WritePLS(w, lang, entries)
}

// Imported is what an import did.
type Imported struct {
	// Entries is how many entries the document gave (added or changed).
	Entries int `json:"entries"`
	// Skipped are the 1-based indexes of lexemes with phonemes but no
	// alias, which were not taken.
	Skipped []int `json:"skippedLexemes"`
	// Total is how many entries the lexicon holds now.
	Total int `json:"total"`
}

// Import reads a PLS document (ReadPLS) into the user's lexicon in one
// transaction: each entry is upserted by (grapheme, language), and entries
// the document does not name stay — unless replace, which first removes
// every entry of the user. If the lexicon would then hold more than
// MaxEntries, or anything in the document is wrong, nothing changes.
func (s *Service) Import(ctx context.Context, userID string, r io.Reader, replace bool) (*Imported, error) {
	doc, err := ReadPLS(r)
	if err != nil {
		return nil, err
	}
	entries := make([]*Entry, 0, len(doc.Entries))
	at := map[Input]int{} // a later lexeme of the same key wins
	now := s.now()
	for _, in := range doc.Entries {
		e := &Entry{ID: gid.New(gid.LexiconEntry), UserID: userID, Grapheme: in.Grapheme, Alias: in.Alias, Language: in.Language, CreatedAt: now}
		key := Input{Grapheme: in.Grapheme, Language: in.Language}
		if i, ok := at[key]; ok {
			entries[i] = e
			continue
		}
		at[key] = len(entries)
		entries = append(entries, e)
	}
	out := &Imported{Entries: len(entries), Skipped: append([]int{}, doc.Skipped...)}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if replace {
			if _, err := tx.NewDelete().Model((*Entry)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
				return err
			}
		}
		if len(entries) > 0 {
			if _, err := tx.NewInsert().Model(&entries).On(conflictKey + " DO UPDATE").Set("alias = EXCLUDED.alias").Exec(ctx); err != nil {
				return err
			}
		}
		n, err := tx.NewSelect().Model((*Entry)(nil)).Where("user_id = ?", userID).Count(ctx)
		if err != nil {
			return err
		}
		if n > MaxEntries {
			return apperror.Invalid("/lexicon", "would leave %d entries; a lexicon holds at most %d", n, MaxEntries)
		}
		out.Total = int(n)
		return nil
	})
	if _, ok := apperror.As(err); ok {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("import lexicon: %w", err)
	}
	return out, nil
}

// Choose returns the user's entries that change text when it is spoken in
// language (a voice's BCP 47 tag), encoded to be stored with a generation
// and given back to Apply; "" when none does. Only the entries that replace
// something are kept: applying them gives what applying every entry gives.
func (s *Service) Choose(ctx context.Context, userID, language, text string) (string, error) {
	var entries []*Entry
	if err := s.db.Read.NewSelect().Model(&entries).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return "", fmt.Errorf("lexicon of generation: %w", err)
	}
	rules := make([]Rule, 0, len(entries))
	for _, e := range entries {
		if appliesTo(e.Language, language) {
			rules = append(rules, e.Rule())
		}
	}
	used := NewMatcher(rules).Used(text)
	if len(used) == 0 {
		return "", nil
	}
	b, err := json.Marshal(used)
	if err != nil {
		return "", fmt.Errorf("lexicon of generation: %w", err)
	}
	return string(b), nil
}

// Apply returns text with the entries Choose chose applied.
func (s *Service) Apply(text, chosen string) (string, error) {
	if chosen == "" {
		return text, nil
	}
	var rules []Rule
	if err := json.Unmarshal([]byte(chosen), &rules); err != nil {
		return "", fmt.Errorf("lexicon of generation: %w", err)
	}
	return NewMatcher(rules).Apply(text), nil
}
