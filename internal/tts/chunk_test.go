package tts

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		maxRunes int
		want     []string
	}{
		{
			name:     "sentences packed while they fit",
			text:     "One. Two! Three? Four.",
			maxRunes: 10,
			want:     []string{"One. Two!", "Three?", "Four."},
		},
		{
			name:     "everything fits",
			text:     "  One. Two.  ",
			maxRunes: 100,
			want:     []string{"One. Two."},
		},
		{
			name:     "numbers, times and decimals are not sentence ends",
			text:     "It costs 3.50 at 10:30, or 1,000 later. Yes.",
			maxRunes: 40,
			want:     []string{"It costs 3.50 at 10:30, or 1,000 later.", "Yes."},
		},
		{
			name:     "closing quote stays with its sentence",
			text:     `He said "Stop." Then (he left.) Fine…  Done`,
			maxRunes: 16,
			want:     []string{`He said "Stop."`, `Then (he left.)`, "Fine…  Done"},
		},
		{
			name:     "abbreviations may split",
			text:     "Use a tool, e.g. a hammer.",
			maxRunes: 12,
			want:     []string{"Use a tool,", "e.g.", "a hammer."},
		},
		{
			name:     "Japanese needs no spaces",
			text:     "今日は晴れです。明日は雨でしょう！本当ですか？",
			maxRunes: 10,
			want:     []string{"今日は晴れです。", "明日は雨でしょう！", "本当ですか？"},
		},
		{
			name:     "Chinese clauses when a sentence is too long",
			text:     "我们今天去公园，然后去吃饭；晚上回家。",
			maxRunes: 8,
			want:     []string{"我们今天去公园，", "然后去吃饭；", "晚上回家。"},
		},
		{
			name:     "full-width period",
			text:     "ＡＢＣ．ＤＥＦ．",
			maxRunes: 4,
			want:     []string{"ＡＢＣ．", "ＤＥＦ．"},
		},
		{
			name:     "mixed scripts",
			text:     "Hello world. 你好世界。 مرحبا بالعالم. 😀!",
			maxRunes: 14,
			want:     []string{"Hello world.", "你好世界。", "مرحبا بالعالم.", "😀!"},
		},
		{
			name:     "paragraphs and lines",
			text:     "Title\n\nFirst line\nsecond line\n\n\n",
			maxRunes: 12,
			want:     []string{"Title", "First line", "second line"},
		},
		{
			name:     "long sentence cut at words",
			text:     "the quick brown fox jumps",
			maxRunes: 10,
			want:     []string{"the quick", "brown fox", "jumps"},
		},
		{
			name:     "long word cut hard",
			text:     "abcdefghij",
			maxRunes: 4,
			want:     []string{"abcd", "efgh", "ij"},
		},
		{
			name:     "emoji with skin tone kept whole",
			text:     "ab👍🏽cd",
			maxRunes: 3,
			want:     []string{"ab", "👍🏽c", "d"},
		},
		{
			name:     "combining mark kept with its letter",
			text:     "abe\u0301cd",
			maxRunes: 3,
			want:     []string{"ab", "e\u0301c", "d"},
		},
		{
			name:     "cluster longer than the limit is cut anyway",
			text:     "👨\u200d👩\u200d👧",
			maxRunes: 2,
			want:     []string{"👨\u200d", "👩\u200d", "👧"},
		},
		{
			name:     "blank",
			text:     " \n\t ",
			maxRunes: 10,
		},
		{
			name:     "limit below one",
			text:     "ab",
			maxRunes: 0,
			want:     []string{"a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Split(tt.text, tt.maxRunes))
		})
	}
}

// FuzzSplit checks Split's promises on any input: chunks are trimmed, not
// blank, within the limit, and together hold every non-space byte of the
// text in order.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"One. Two! Three?", "今日は晴れです。明日は雨！", "Hello 世界 مرحبا 😀", "a,b;c:d 、，；：",
		"👨\u200d👩\u200d👧👍🏽e\u0301", "\"Quote.\" (Paren.) ...\n\n", "\xff\xfe invalid", "",
	} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, text string, maxRunes int) {
		maxRunes = maxRunes%50 + 1
		if maxRunes < 1 {
			maxRunes += 50
		}
		chunks := Split(text, maxRunes)
		for _, c := range chunks {
			require.NotEmpty(t, c)
			require.Equal(t, strings.TrimSpace(c), c)
			require.LessOrEqual(t, utf8.RuneCountInString(c), maxRunes, "chunk %q", c)
		}
		squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
		require.Equal(t, squash(text), squash(strings.Join(chunks, " ")))
	})
}

func TestCountCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"  \n ", 0},
		{"Hello, world.", 13},
		{"  two  spaces  ", 11},
		{"line\nbreak", 10},
		{"今日は", 3},
		{"😀", 1},
		{"👍🏽", 2}, // two code points, as the engines bill them
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, CountCharacters(tt.text))
		})
	}
}

func ExampleSplit() {
	for _, chunk := range Split("Koe reads text aloud. It splits long texts first! 短い文。", 30) {
		fmt.Println(chunk)
	}
	// Output:
	// Koe reads text aloud.
	// It splits long texts first!
	// 短い文。
}
