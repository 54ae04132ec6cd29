package ja

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzReading: whatever the text, Reading returns, and what it returns has
// no digit and no kanji left for the engine to spell out in English.
func FuzzReading(f *testing.F) {
	for _, c := range readingCases {
		f.Add(c.in)
	}
	f.Add("𠮷野家で々を")
	f.Add("99999999999999999999円、1,000,000,000,000,000円")
	f.Add("1.2.3 ¥ $ -0 〜1 0:00 2026/13/40 0x1F")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		out := Reading(text)
		if i := strings.IndexFunc(out, func(r rune) bool { return unicode.IsDigit(r) || unicode.Is(unicode.Han, r) }); i >= 0 {
			t.Fatalf("Reading(%q) = %q: a digit or kanji is left at byte %d", text, out, i)
		}
	})
}
