// Package lexicon is a person's pronunciation lexicon: entries that say a
// written form (a grapheme: "Koe", "AWS", "東京") as something else (an
// alias), for every language or one. It keeps the entries, imports and
// exports them as W3C Pronunciation Lexicon Specification (PLS) 1.0 XML,
// and applies them to the text of a generation before it is spoken.
package lexicon

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/language"

	"github.com/koe-voice/koe/internal/apperror"
)

// Limits of an entry and of a lexicon.
const (
	// MaxGraphemeRunes is the longest written form, in characters.
	MaxGraphemeRunes = 100
	// MaxAliasRunes is the longest alias, in characters.
	MaxAliasRunes = 500
	// MaxEntries is how many entries one person may keep.
	MaxEntries = 1000
	// maxLanguageLen bounds a language tag before it is parsed.
	maxLanguageLen = 35
)

// Entry is one entry of a person's lexicon.
type Entry struct {
	bun.BaseModel `bun:"table:lexicon_entries"`

	ID     string `bun:"id,pk"`
	UserID string `bun:"user_id,notnull"`
	// Grapheme is the written form as it appears in text.
	Grapheme string `bun:"grapheme,notnull"`
	// Alias is what is said instead.
	Alias string `bun:"alias,notnull"`
	// Language is a canonical BCP 47 tag, "" for every language.
	Language  string    `bun:"language,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// LanguageOrNil is Language as the API shows it: nil for every language.
func (e *Entry) LanguageOrNil() *string {
	if e.Language == "" {
		return nil
	}
	return &e.Language
}

// Rule is the entry as the matcher takes it.
func (e *Entry) Rule() Rule { return Rule{Grapheme: e.Grapheme, Alias: e.Alias, Language: e.Language} }

// Input is an entry to add or change: the key (Grapheme, Language) picks
// which.
type Input struct {
	Grapheme string
	Alias    string
	// Language is a BCP 47 tag; "" (or "mul", "und") for every language.
	Language string
}

// fieldNames name the parts of an input in its errors: the GraphQL input path
// ("input.grapheme") or the place in a PLS document.
type fieldNames struct {
	Grapheme, Alias, Language string
}

// inputFields are the names of LexiconEntryInput's fields.
var inputFields = fieldNames{Grapheme: "input.grapheme", Alias: "input.alias", Language: "input.language"}

// normalize checks in and puts it in the form it is stored in: the
// grapheme and alias without surrounding white space, the language
// canonical. Errors are BAD_USER_INPUT naming the field of f.
func normalize(in Input, f fieldNames) (Input, error) {
	in.Grapheme, in.Alias = strings.TrimSpace(in.Grapheme), strings.TrimSpace(in.Alias)
	if err := checkText(in.Grapheme, f.Grapheme); err != nil {
		return Input{}, err
	}
	if utf8.RuneCountInString(in.Grapheme) > MaxGraphemeRunes {
		return Input{}, apperror.Invalid(f.Grapheme, "must be 1 to 100 characters")
	}
	if err := checkText(in.Alias, f.Alias); err != nil {
		return Input{}, err
	}
	if utf8.RuneCountInString(in.Alias) > MaxAliasRunes {
		return Input{}, apperror.Invalid(f.Alias, "must be 1 to 500 characters")
	}
	lang, err := canonicalLanguage(in.Language, f.Language)
	if err != nil {
		return Input{}, err
	}
	in.Language = lang
	return in, nil
}

// checkText refuses an empty grapheme or alias, and one with NUL in it
// (PostgreSQL cannot store it, and it would end an engine's input early).
func checkText(s, field string) error {
	switch {
	case s == "":
		return apperror.Invalid(field, "must not be empty")
	case strings.ContainsRune(s, 0):
		return apperror.Invalid(field, "must not contain NUL characters (U+0000)")
	}
	return nil
}

// canonicalLanguage is tag in canonical form ("en-us" → "en-US"), "" for
// no tag and for "mul" (several languages) and "und" (undetermined), which
// both mean every language here.
func canonicalLanguage(tag, field string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", nil
	}
	t, err := language.Parse(tag)
	if err != nil || len(tag) > maxLanguageLen || strings.ContainsRune(tag, 0) {
		return "", apperror.Invalid(field, "must be a BCP 47 language tag such as en or ja-JP")
	}
	switch s := t.String(); s {
	case "mul", "und":
		return "", nil
	default:
		return s, nil
	}
}

// appliesTo reports whether an entry of language entry applies to a voice
// of language voice: an entry of no language to every voice, others to
// voices of their language or a variant of it ("en" to "en-US", "en-US"
// not to "en-GB").
func appliesTo(entry, voice string) bool {
	if entry == "" {
		return true
	}
	e, v := strings.ToLower(entry), strings.ToLower(voice)
	return v == e || strings.HasPrefix(v, e+"-")
}
