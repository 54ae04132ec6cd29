package lexicon

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apperror"
)

// requireInvalid checks err is BAD_USER_INPUT naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperror.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperror.BadUserInput, e.Code, "%v", err)
	require.Equal(t, field, e.Field, "%v", err)
}

// TestApply: the rules of matching, one case each, as a person would write
// their entries and their text.
func TestApply(t *testing.T) {
	t.Parallel()
	koe := Rule{Grapheme: "Koe", Alias: "koh-eh"}
	tests := []struct {
		name  string
		rules []Rule
		text  string
		want  string
	}{
		{"whole word", []Rule{koe}, "Koe is here.", "koh-eh is here."},
		{"any case", []Rule{koe}, "I like koe and KOE.", "I like koh-eh and koh-eh."},
		{"not inside a longer word", []Rule{koe}, "Mr Koenig met McKoe.", "Mr Koenig met McKoe."},
		{"before an apostrophe or a dash", []Rule{koe}, "Koe's Koe-based app", "koh-eh's koh-eh-based app"},
		{"not next to a digit", []Rule{{Grapheme: "km", Alias: "kilometres"}}, "10km or 10 km", "10km or 10 kilometres"},
		{"a written form of several words", []Rule{{Grapheme: "New York", Alias: "the Big Apple"}}, "new york, New York!", "the Big Apple, the Big Apple!"},
		{"a Latin word inside Japanese", []Rule{{Grapheme: "Koe", Alias: "コエ"}}, "Koeで作成", "コエで作成"},
		{"Japanese inside a longer word", []Rule{{Grapheme: "東京", Alias: "トーキョー"}}, "東京都に行く", "トーキョー都に行く"},
		{"kana anywhere", []Rule{{Grapheme: "ハロー", Alias: "こんにちは"}}, "ハローワーク", "こんにちはワーク"},
		{"Korean with its particle", []Rule{{Grapheme: "서울", Alias: "Seoul"}}, "서울에서", "Seoul에서"},
		{"Cyrillic whole words", []Rule{{Grapheme: "Москва", Alias: "Moskva"}}, "москва и Москвабад", "Moskva и Москвабад"},
		{"accented letters", []Rule{{Grapheme: "café", Alias: "kaffeh"}}, "Café, cafés", "kaffeh, cafés"},
		{"punctuation at the edge", []Rule{{Grapheme: "C++", Alias: "C plus plus"}}, "I write C++. ABC++ no.", "I write C plus plus. ABC++ no."},
		{"longest first (Latin)", []Rule{{Grapheme: "New", Alias: "Nu"}, {Grapheme: "New York", Alias: "NYC"}},
			"New York and New Jersey", "NYC and Nu Jersey"},
		{"longest first (Japanese)", []Rule{{Grapheme: "東京", Alias: "A"}, {Grapheme: "東京都", Alias: "B"}}, "東京都と東京", "BとA"},
		{"an alias is not matched again", []Rule{{Grapheme: "A", Alias: "B"}, {Grapheme: "B", Alias: "C"}}, "A B", "B C"},
		{"an alias holding its own grapheme", []Rule{{Grapheme: "Koe", Alias: "Koe Koe"}}, "Koe", "Koe Koe"},
		{"the same case wins a tie", []Rule{{Grapheme: "US", Alias: "United States"}, {Grapheme: "us", Alias: "uss"}},
			"US and us", "United States and uss"},
		{"the more specific language wins a tie", []Rule{{Grapheme: "read", Alias: "reed"}, {Grapheme: "read", Alias: "red", Language: "en"}},
			"read", "red"},
		{"no rules", nil, "Koe", "Koe"},
		{"empty text", []Rule{koe}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := NewMatcher(tc.rules)
			require.Equal(t, tc.want, m.Apply(tc.text))
			// The rules a generation keeps say the same.
			require.Equal(t, tc.want, NewMatcher(m.Used(tc.text)).Apply(tc.text), "Used keeps what matters")
		})
	}
}

// TestUsedKeepsOnlyWhatReplaces: a generation stores the entries that
// change its text, not the whole lexicon.
func TestUsedKeepsOnlyWhatReplaces(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{Grapheme: "Koe", Alias: "koh-eh"}, {Grapheme: "東京", Alias: "A"}, {Grapheme: "東京都", Alias: "B"},
		{Grapheme: "unused", Alias: "x"}, {Grapheme: "Koenig", Alias: "king"},
	}
	require.Equal(t, []Rule{{Grapheme: "Koe", Alias: "koh-eh"}, {Grapheme: "東京都", Alias: "B"}},
		NewMatcher(rules).Used("Koe visits 東京都."))
	require.Empty(t, NewMatcher(rules).Used("Nothing here."))
}

// TestAppliesTo: an entry applies to voices of its language or a variant
// of it; one of no language to every voice.
func TestAppliesTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		entry, voice string
		want         bool
	}{
		{"", "ja", true},
		{"", "en-US", true},
		{"en", "en-US", true},
		{"en", "en", true},
		{"en-US", "en-us", true},
		{"en-US", "en-GB", false},
		{"en-US", "en", false},
		{"en", "eng", false},
		{"ja", "en-US", false},
		{"ja", "ja-JP", true},
	} {
		require.Equal(t, tc.want, appliesTo(tc.entry, tc.voice), "%q for a %q voice", tc.entry, tc.voice)
	}
}

// TestNormalize: what an entry may be, each refusal naming its field.
func TestNormalize(t *testing.T) {
	t.Parallel()
	long := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = 'あ'
		}
		return string(b)
	}
	ok, err := normalize(Input{Grapheme: "  Koe ", Alias: " koh-eh ", Language: "en_us"}, inputFields)
	require.NoError(t, err)
	require.Equal(t, Input{Grapheme: "Koe", Alias: "koh-eh", Language: "en-US"}, ok)
	for _, lang := range []string{"", " ", "mul", "und"} {
		in, err := normalize(Input{Grapheme: "a", Alias: "b", Language: lang}, inputFields)
		require.NoError(t, err)
		require.Empty(t, in.Language, "%q means every language", lang)
	}
	in, err := normalize(Input{Grapheme: long(100), Alias: long(500)}, inputFields)
	require.NoError(t, err, "100 and 500 characters, not bytes")
	require.Equal(t, long(100), in.Grapheme)

	for _, tc := range []struct {
		in    Input
		field string
	}{
		{Input{Grapheme: "", Alias: "b"}, "input.grapheme"},
		{Input{Grapheme: " \t", Alias: "b"}, "input.grapheme"},
		{Input{Grapheme: long(101), Alias: "b"}, "input.grapheme"},
		{Input{Grapheme: "a\x00b", Alias: "b"}, "input.grapheme"},
		{Input{Grapheme: "a", Alias: ""}, "input.alias"},
		{Input{Grapheme: "a", Alias: long(501)}, "input.alias"},
		{Input{Grapheme: "a", Alias: "b\x00"}, "input.alias"},
		{Input{Grapheme: "a", Alias: "b", Language: "en US"}, "input.language"},
		{Input{Grapheme: "a", Alias: "b", Language: "english!"}, "input.language"},
		{Input{Grapheme: "a", Alias: "b", Language: "en-" + long(40)}, "input.language"},
	} {
		_, err := normalize(tc.in, inputFields)
		requireInvalid(t, err, tc.field)
	}
}
