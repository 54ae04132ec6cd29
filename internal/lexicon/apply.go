package lexicon

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule is one substitution applied to text: Grapheme is said as Alias. It
// is an entry without its owner, id or time, as a generation stores it.
type Rule struct {
	Grapheme string `json:"grapheme"`
	Alias    string `json:"alias"`
	// Language is the entry's; "" for every language. Of two rules for the
	// same written form, the one of the more specific language wins.
	Language string `json:"language,omitempty"`
}

// Matcher finds rules in text. It is built once per text to speak (a
// person has at most MaxEntries rules) and is safe for concurrent use.
//
// The rules of matching:
//   - Case does not matter ("koe" finds "Koe").
//   - A rule whose written form starts (or ends) with a letter or digit of a
//     script written with spaces between words (Latin, Cyrillic, Greek…)
//     matches only where the text has no such letter or digit just before
//     (after) it: whole words, so "Koe" is not found in "Koenig" but is in
//     "Koe's" and in "Koeで作成".
//   - An edge in a script written without spaces (Han, kana, Hangul, Thai…)
//     needs no boundary: "東京" is found inside "東京都".
//   - At each place the longest written form wins; of equal ones, the one
//     the text spells in the same case, then the more specific language.
//   - The text is read once from left to right: what an alias says is never
//     matched again.
type Matcher struct {
	// byFirst holds the rules by the case-folded first rune of their
	// written form, each list in the order rules are tried.
	byFirst map[rune][]*rule
}

type rule struct {
	Rule
	runes []rune
	// wordStart and wordEnd: the edge is a letter or digit of a spaced
	// script, so the text next to it must not be one.
	wordStart, wordEnd bool
}

// NewMatcher returns a matcher of rules. Rules with an empty written form
// are ignored.
func NewMatcher(rules []Rule) *Matcher {
	m := &Matcher{byFirst: map[rune][]*rule{}}
	for _, r := range rules {
		runes := []rune(r.Grapheme)
		if len(runes) == 0 {
			continue
		}
		k := foldKey(runes[0])
		m.byFirst[k] = append(m.byFirst[k], &rule{Rule: r, runes: runes,
			wordStart: wordRune(runes[0]), wordEnd: wordRune(runes[len(runes)-1])})
	}
	for _, list := range m.byFirst {
		slices.SortFunc(list, func(a, b *rule) int {
			return cmp.Or(cmp.Compare(len(b.runes), len(a.runes)), cmp.Compare(len(b.Language), len(a.Language)),
				strings.Compare(a.Grapheme, b.Grapheme), strings.Compare(a.Language, b.Language))
		})
	}
	return m
}

// Apply returns text with every match replaced by its alias.
func (m *Matcher) Apply(text string) string {
	if len(m.byFirst) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	m.scan(text, func(plain string, r *Rule) {
		b.WriteString(plain)
		if r != nil {
			b.WriteString(r.Alias)
		}
	})
	return b.String()
}

// Used returns the rules that replace something in text, in the matcher's
// order. Applying only them to text gives what applying all of them gives:
// the scan visits the same places, and at each the winner is among them.
func (m *Matcher) Used(text string) []Rule {
	seen := map[*Rule]bool{}
	m.scan(text, func(_ string, r *Rule) {
		if r != nil {
			seen[r] = true
		}
	})
	var out []Rule
	for _, list := range m.byFirst {
		for _, r := range list {
			if seen[&r.Rule] {
				out = append(out, r.Rule)
			}
		}
	}
	slices.SortFunc(out, func(a, b Rule) int {
		return cmp.Or(strings.Compare(a.Grapheme, b.Grapheme), strings.Compare(a.Language, b.Language))
	})
	return out
}

// scan reads text once, calling emit with each stretch left as it is and
// the rule that replaces what follows it (nil at the end).
func (m *Matcher) scan(text string, emit func(plain string, r *Rule)) {
	prev := rune(-1) // nothing before the text
	start := 0       // of the stretch not yet emitted
	for i := 0; i < len(text); {
		c, size := utf8.DecodeRuneInString(text[i:])
		if r, end := m.at(text, i, c, prev); r != nil {
			emit(text[start:i], &r.Rule)
			prev, _ = utf8.DecodeLastRuneInString(text[i:end])
			i, start = end, end
			continue
		}
		prev = c
		i += size
	}
	emit(text[start:], nil)
}

// at returns the rule that wins at byte i of text (whose rune is c, and
// the rune before it prev, -1 at the start) and where its match ends.
func (m *Matcher) at(text string, i int, c, prev rune) (*rule, int) {
	var best *rule
	bestEnd, bestExact := 0, false
	for _, r := range m.byFirst[foldKey(c)] {
		if best != nil && len(r.runes) < len(best.runes) {
			break
		}
		if r.wordStart && wordRune(prev) {
			continue
		}
		end, exact, ok := matchFold(text, i, r.runes)
		if !ok {
			continue
		}
		if r.wordEnd && end < len(text) {
			if next, _ := utf8.DecodeRuneInString(text[end:]); wordRune(next) {
				continue
			}
		}
		if best == nil || exact && !bestExact {
			best, bestEnd, bestExact = r, end, exact
		}
		if bestExact {
			break
		}
	}
	return best, bestEnd
}

// matchFold reports whether runes, ignoring case, are spelled at byte i of
// text, where that spelling ends, and whether it is in the same case.
func matchFold(text string, i int, runes []rune) (end int, exact, ok bool) {
	exact = true
	for _, want := range runes {
		if i >= len(text) {
			return 0, false, false
		}
		got, size := utf8.DecodeRuneInString(text[i:])
		if got != want {
			if !equalFold(got, want) {
				return 0, false, false
			}
			exact = false
		}
		i += size
	}
	return i, exact, true
}

// equalFold reports whether a and b are the same letter in another case.
func equalFold(a, b rune) bool {
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// foldKey is the same rune for every case of a letter: the smallest of its
// case-folding orbit.
func foldKey(r rune) rune {
	k := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		k = min(k, f)
	}
	return k
}

// wordRune reports whether r is part of a word in a script written with
// spaces between words: a letter, digit, combining mark or underscore that
// is not of a script written without them. -1 (no rune) is not.
func wordRune(r rune) bool {
	if r < 0 || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_') {
		return false
	}
	return !unspaced(r)
}

// unspacedScripts are the scripts whose words run together, so a written
// form in them matches anywhere: Japanese, Chinese, Korean (particles join
// the noun), and the scripts of South-East Asia.
var unspacedScripts = []*unicode.RangeTable{
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo, unicode.Hangul,
	unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan,
}

func unspaced(r rune) bool {
	switch r {
	case 'ー', 'ｰ', '々', '〆', 'ヶ': // Japanese marks Unicode files under no script (Common)
		return true
	}
	return unicode.In(r, unspacedScripts...)
}
