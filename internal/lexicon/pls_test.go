package lexicon

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// plsDoc wraps lexemes in a PLS 1.0 root of language lang.
func plsDoc(lang, lexemes string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="` + lang + `">` +
		lexemes + `</lexicon>`
}

// TestWriteReadPLS: an export reads back as the same entries, languages
// included, and is a PLS 1.0 document.
func TestWriteReadPLS(t *testing.T) {
	t.Parallel()
	entries := []*Entry{
		{Grapheme: "Koe", Alias: "koh-eh"},
		{Grapheme: "AWS", Alias: "Amazon Web Services", Language: "en"},
		{Grapheme: "東京", Alias: "トーキョー", Language: "ja-JP"},
		{Grapheme: `<&"'>`, Alias: "markup ]]> survives"},
	}
	var all bytes.Buffer
	require.NoError(t, WritePLS(&all, "", entries))
	out := all.String()
	require.Contains(t, out, `<lexicon xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" version="1.0" alphabet="ipa" xml:lang="mul">`)
	require.Contains(t, out, `<lexeme xml:lang="ja-JP">`)
	doc, err := ReadPLS(&all)
	require.NoError(t, err)
	require.Equal(t, []Input{
		{Grapheme: "Koe", Alias: "koh-eh"},
		{Grapheme: "AWS", Alias: "Amazon Web Services", Language: "en"},
		{Grapheme: "東京", Alias: "トーキョー", Language: "ja-JP"},
		{Grapheme: `<&"'>`, Alias: "markup ]]> survives"},
	}, doc.Entries)
	require.Empty(t, doc.Skipped)

	// A document of one language says it once, on the root.
	var ja bytes.Buffer
	require.NoError(t, WritePLS(&ja, "ja-JP", entries[2:3]))
	require.Contains(t, ja.String(), `xml:lang="ja-JP"`)
	require.NotContains(t, ja.String(), `<lexeme xml:lang`)
	doc, err = ReadPLS(&ja)
	require.NoError(t, err)
	require.Equal(t, []Input{{Grapheme: "東京", Alias: "トーキョー", Language: "ja-JP"}}, doc.Entries)
}

// TestReadPLSFromOtherPlatforms: what lexicons written elsewhere hold —
// several graphemes a lexeme, preferred aliases, phonemes, metadata.
func TestReadPLSFromOtherPlatforms(t *testing.T) {
	t.Parallel()
	doc, err := ReadPLS(strings.NewReader(plsDoc("en-US", `
  <metadata><foo>ignored</foo></metadata>
  <meta name="author" content="someone"/>
  <lexeme>
    <grapheme>W3C</grapheme>
    <grapheme orthography="x">w3c</grapheme>
    <alias>World Wide Web Consortium</alias>
  </lexeme>
  <lexeme role="noun">
    <grapheme>tomato</grapheme>
    <phoneme>təˈmeɪtoʊ</phoneme>
  </lexeme>
  <lexeme>
    <grapheme>read</grapheme>
    <alias>reed</alias>
    <phoneme prefer="true">ɹiːd</phoneme>
    <alias prefer="true">red</alias>
    <example>I read it.</example>
  </lexeme>
  <lexeme xml:lang="und"><grapheme>Koe</grapheme><alias>koh-eh</alias></lexeme>`)))
	require.NoError(t, err)
	require.Equal(t, []Input{
		{Grapheme: "W3C", Alias: "World Wide Web Consortium", Language: "en-US"},
		{Grapheme: "w3c", Alias: "World Wide Web Consortium", Language: "en-US"},
		{Grapheme: "read", Alias: "red", Language: "en-US"},
		{Grapheme: "Koe", Alias: "koh-eh"},
	}, doc.Entries)
	require.Equal(t, []int{2}, doc.Skipped, "the phoneme-only lexeme is skipped and named")
}

// TestReadPLSRefuses: each bad document is BAD_USER_INPUT naming where.
func TestReadPLSRefuses(t *testing.T) {
	t.Parallel()
	ok := `<lexeme><grapheme>a</grapheme><alias>b</alias></lexeme>`
	many := strings.Repeat(ok, MaxEntries) + `<lexeme><grapheme>c</grapheme><alias>d</alias></lexeme>`
	tests := []struct {
		name, doc, field string
	}{
		{"not XML", "this is not xml", "/"},
		{"cut off", plsDoc("en", ok)[:150], "/lexicon"},
		{"another root", `<lexicon version="1.0" xml:lang="en"><lexeme/></lexicon>`, "/"},
		{"an SSML document", `<speak xmlns="http://www.w3.org/2001/10/synthesis">hi</speak>`, "/"},
		{"version 2", strings.Replace(plsDoc("en", ok), `<lexicon version="1.0"`, `<lexicon version="2.0"`, 1), "/lexicon/@version"},
		{"bad root language", plsDoc("english please", ok), "/lexicon/@xml:lang"},
		{"bad lexeme language", plsDoc("en", ok+`<lexeme xml:lang="??"><grapheme>a</grapheme><alias>b</alias></lexeme>`), "/lexicon/lexeme[2]/@xml:lang"},
		{"no grapheme", plsDoc("en", ok+ok+`<lexeme><alias>b</alias></lexeme>`), "/lexicon/lexeme[3]"},
		{"no pronunciation", plsDoc("en", `<lexeme><grapheme>a</grapheme></lexeme>`), "/lexicon/lexeme[1]"},
		{"empty grapheme", plsDoc("en", ok+`<lexeme><grapheme>x</grapheme><grapheme> </grapheme><alias>b</alias></lexeme>`), "/lexicon/lexeme[2]/grapheme[2]"},
		{"empty alias", plsDoc("en", `<lexeme><grapheme>a</grapheme><alias></alias></lexeme>`), "/lexicon/lexeme[1]/alias[1]"},
		{"long preferred alias", plsDoc("en", `<lexeme><grapheme>a</grapheme><alias>b</alias><alias prefer="true">`+strings.Repeat("x", 501)+`</alias></lexeme>`), "/lexicon/lexeme[1]/alias[2]"},
		{"more entries than a lexicon holds", plsDoc("en", many), "/lexicon"},
		{"a bad character", plsDoc("en", `<lexeme><grapheme>a&#0;</grapheme><alias>b</alias></lexeme>`), "/lexicon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadPLS(strings.NewReader(tc.doc))
			requireInvalid(t, err, tc.field)
		})
	}
}

// TestReadPLSRefusesEntityExpansion: the "billion laughs" document (a DTD
// of entities each ten of the one before) is refused at its DOCTYPE,
// before anything is expanded, in well under the time expanding it takes.
func TestReadPLSRefusesEntityExpansion(t *testing.T) {
	t.Parallel()
	var dtd strings.Builder
	dtd.WriteString(`<?xml version="1.0"?><!DOCTYPE lexicon [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&dtd, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	dtd.WriteString(`]>`)
	doc := dtd.String() + plsDoc("en", `<lexeme><grapheme>&lol9;</grapheme><alias>b</alias></lexeme>`)[len(`<?xml version="1.0" encoding="UTF-8"?>`):]
	_, err := ReadPLS(strings.NewReader(doc))
	requireInvalid(t, err, "/")
	require.Contains(t, err.Error(), "DOCTYPE")

	// Without the DTD, an entity it would have defined is simply unknown.
	_, err = ReadPLS(strings.NewReader(plsDoc("en", `<lexeme><grapheme>&lol9;</grapheme><alias>b</alias></lexeme>`)))
	requireInvalid(t, err, "/lexicon")
}

// TestReadPLSBoundsItsInput: a document over MaxPLSBytes is refused having
// read no more than one byte past the bound.
func TestReadPLSBoundsItsInput(t *testing.T) {
	t.Parallel()
	head := plsDoc("en", "<metadata>")
	head = head[:len(head)-len("</lexicon>")]
	body := &countingReader{r: io.MultiReader(strings.NewReader(head), endless{})}
	start := time.Now()
	_, err := ReadPLS(body)
	requireInvalid(t, err, "/")
	require.Contains(t, err.Error(), "4 MiB")
	require.LessOrEqual(t, body.n, int64(MaxPLSBytes+1))
	t.Logf("refused after %d bytes in %v", body.n, time.Since(start))
}

// endless is an unending stream of text.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
