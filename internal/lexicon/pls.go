package lexicon

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/koe-voice/koe/internal/apperror"
)

// PLS is W3C's Pronunciation Lexicon Specification 1.0
// (https://www.w3.org/TR/pronunciation-lexicon/), the lexicon format other
// voice platforms read and write. Koe speaks aliases: of a <lexeme> it
// takes every <grapheme> and the preferred <alias> (the first with
// prefer="true", else the first). A lexeme with <phoneme>s but no alias is
// skipped and counted, not refused: lexicons made for other platforms mix
// both kinds, and the aliases in them are still worth taking.
//
// A PLS document has one language (xml:lang on <lexicon>). An export of
// every entry says "mul" there and gives entries of one language an
// xml:lang of their own on <lexeme>, which XML allows on any element;
// an import reads it back, so an export imports as the same entries.
// "mul" and "und" mean every language.
const (
	// PLSNamespace is the XML namespace of PLS 1.0.
	PLSNamespace = "http://www.w3.org/2005/01/pronunciation-lexicon"
	// PLSContentType is the media type of PLS documents (RFC 4267).
	PLSContentType = "application/pls+xml"
	// MaxPLSBytes bounds a PLS document read: a full lexicon of long
	// Japanese aliases is about 2 MB.
	MaxPLSBytes = 4 << 20
	// allLanguages is the xml:lang of a document of every entry.
	allLanguages = "mul"
)

// xmlNamespace is the namespace of the xml: prefix (xml:lang).
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

type plsDocument struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/01/pronunciation-lexicon lexicon"`
	Version  string      `xml:"version,attr"`
	Alphabet string      `xml:"alphabet,attr"`
	Lang     string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Lexemes  []plsLexeme `xml:"lexeme"`
}

type plsLexeme struct {
	Lang      string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Graphemes []string   `xml:"grapheme"`
	Phonemes  []string   `xml:"phoneme,omitempty"`
	Aliases   []plsAlias `xml:"alias"`
}

type plsAlias struct {
	Prefer string `xml:"prefer,attr,omitempty"`
	Text   string `xml:",chardata"`
}

// WritePLS writes entries as a PLS document of language (a canonical tag),
// or of every language (mul, with each entry's own language on its lexeme)
// when language is "".
func WritePLS(w io.Writer, language string, entries []*Entry) error {
	doc := plsDocument{Version: "1.0", Alphabet: "ipa", Lang: language, Lexemes: make([]plsLexeme, len(entries))}
	if language == "" {
		doc.Lang = allLanguages
	}
	for i, e := range entries {
		l := plsLexeme{Graphemes: []string{e.Grapheme}, Aliases: []plsAlias{{Text: e.Alias}}}
		if language == "" {
			l.Lang = e.Language
		}
		doc.Lexemes[i] = l
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write pls: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Document is a PLS document read for import.
type Document struct {
	// Entries are the entries it gives, checked and normalized, in
	// document order; a later one of the same grapheme and language
	// replaces an earlier one.
	Entries []Input
	// Skipped are the 1-based indexes of the lexemes that have phonemes
	// but no alias.
	Skipped []int
}

// ReadPLS reads and checks a PLS document of at most MaxPLSBytes. Errors
// are BAD_USER_INPUT naming the place at fault as an XPath, 1-based as
// XPath counts: "/lexicon/lexeme[3]/alias[1]". A document type declaration
// is refused (no entity is ever expanded), as is a document that gives
// more than MaxEntries entries.
func ReadPLS(r io.Reader) (*Document, error) {
	body := &boundedReader{r: r, left: MaxPLSBytes}
	d := xml.NewDecoder(body)
	root, err := plsRoot(d)
	if err == nil {
		var doc plsDocument
		if err = d.DecodeElement(&doc, root); err == nil {
			return readLexemes(&doc)
		}
	}
	switch {
	case body.err != nil:
		return nil, body.err
	case body.over:
		return nil, apperror.Invalid("/", "must be at most %d MiB", MaxPLSBytes>>20)
	}
	if _, ok := apperror.As(err); ok {
		return nil, err
	}
	return nil, apperror.Invalid("/lexicon", "is not well-formed XML: %s", err.Error())
}

// boundedReader reads at most left bytes of r, and remembers why reading
// stopped: over the bound, or an error of r's own (a body cut off, or over
// the server's limit), which is not the document's fault.
type boundedReader struct {
	r    io.Reader
	left int64
	over bool
	err  error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte past the bound says the document is longer.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			b.over = true
			return 0, errors.New("document too large")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = fmt.Errorf("read pls: %w", err)
	}
	return n, err
}

// plsRoot reads up to the root element and checks it is PLS 1.0's.
func plsRoot(d *xml.Decoder) (*xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil, apperror.Invalid("/", "has no <lexicon> element")
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, apperror.Invalid("/", "must not have a document type declaration (<!DOCTYPE>)")
		case xml.StartElement:
			if t.Name.Local != "lexicon" || t.Name.Space != PLSNamespace {
				return nil, apperror.Invalid("/", "must be a <lexicon> of the PLS namespace http://www.w3.org/2005/01/pronunciation-lexicon")
			}
			for _, a := range t.Attr {
				if a.Name.Local == "version" && a.Name.Space == "" && a.Value != "1.0" {
					return nil, apperror.Invalid("/lexicon/@version", "must be 1.0")
				}
			}
			return &t, nil
		}
	}
}

// readLexemes turns the lexemes of doc into entries.
func readLexemes(doc *plsDocument) (*Document, error) {
	out := &Document{}
	const rootLang = "/lexicon/@xml:lang"
	if _, err := canonicalLanguage(doc.Lang, rootLang); err != nil {
		return nil, err
	}
	for i, l := range doc.Lexemes {
		at := fmt.Sprintf("/lexicon/lexeme[%d]", i+1)
		if len(l.Graphemes) == 0 {
			return nil, apperror.Invalid(at, "has no grapheme")
		}
		alias := preferred(l.Aliases)
		if alias < 0 {
			if len(l.Phonemes) == 0 {
				return nil, apperror.Invalid(at, "has neither an alias nor a phoneme")
			}
			out.Skipped = append(out.Skipped, i+1)
			continue
		}
		lang, langField := doc.Lang, rootLang
		if l.Lang != "" {
			lang, langField = l.Lang, at+"/@xml:lang"
		}
		for j, g := range l.Graphemes {
			if len(out.Entries) == MaxEntries {
				return nil, apperror.Invalid("/lexicon", "gives more than %d entries; a lexicon holds at most %d", MaxEntries, MaxEntries)
			}
			in, err := normalize(Input{Grapheme: g, Alias: l.Aliases[alias].Text, Language: lang}, fieldNames{
				Grapheme: fmt.Sprintf("%s/grapheme[%d]", at, j+1), Alias: fmt.Sprintf("%s/alias[%d]", at, alias+1), Language: langField,
			})
			if err != nil {
				return nil, err
			}
			out.Entries = append(out.Entries, in)
		}
	}
	return out, nil
}

// preferred is the index of the alias PLS says to use: the first with
// prefer="true", else the first; -1 when there is none.
func preferred(aliases []plsAlias) int {
	for i, a := range aliases {
		if strings.TrimSpace(a.Prefer) == "true" {
			return i
		}
	}
	if len(aliases) == 0 {
		return -1
	}
	return 0
}
