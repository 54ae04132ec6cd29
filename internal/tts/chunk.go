package tts

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Split cuts text into chunks of at most maxRunes runes (below 1 counts as 1) for
// engines that are faster, or only able, to work on short inputs. It cuts at
// sentence ends and newlines and packs as many whole sentences into a chunk
// as fit, so an engine is not started once per short sentence. A sentence
// that does not fit alone is cut at clause punctuation, then at spaces, and
// as a last resort every maxRunes runes, keeping emoji and combining marks
// with their base where it can. Chunks are trimmed and never blank; nothing
// but whitespace is lost. Abbreviations ("e.g. this") count as sentence
// ends, which at worst costs a pause.
func Split(text string, maxRunes int) []string {
	maxRunes = max(maxRunes, 1)
	var (
		chunks []string
		cur    strings.Builder
	)
	fits := func(s string) bool { return utf8.RuneCountInString(strings.TrimSpace(s)) <= maxRunes }
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			chunks = append(chunks, s)
		}
		cur.Reset()
	}
	// Each level cuts finer than the one before; hardCut's pieces always
	// fit, so the recursion ends there.
	levels := []func(string) []string{
		func(s string) []string { return cutAfter(s, clauseEnd) },
		func(s string) []string { return cutAfter(s, spaceEnd) },
		func(s string) []string { return hardCut(s, maxRunes) },
	}
	var add func(piece string, level int)
	add = func(piece string, level int) {
		if fits(cur.String() + piece) {
			cur.WriteString(piece)
			return
		}
		flush()
		if fits(piece) {
			cur.WriteString(piece)
			return
		}
		for _, p := range levels[level](piece) {
			add(p, level+1)
		}
	}
	for _, s := range cutAfter(text, sentenceEnd) {
		add(s, 0)
	}
	flush()
	return chunks
}

// CountCharacters returns the billable length of text: its runes once
// leading and trailing whitespace is trimmed, the number an editor's
// character counter shows. Inner spaces and newlines count, as every
// engine has to read them.
func CountCharacters(text string) int {
	return utf8.RuneCountInString(strings.TrimSpace(text))
}

// A boundary classifier reports whether r ends a piece and whether that
// needs whitespace after it: Latin punctuation does ("3.14", "10:30" and
// "1,000" stay whole), CJK punctuation and newlines do not.
type boundary func(r rune) (ends, needsSpace bool)

func sentenceEnd(r rune) (bool, bool) {
	switch r {
	case '.', '!', '?', '…':
		return true, true
	case '。', '！', '？', '．', '\n':
		return true, false
	}
	return false, false
}

func clauseEnd(r rune) (bool, bool) {
	switch r {
	case ',', ';', ':':
		return true, true
	case '、', '，', '；', '：':
		return true, false
	}
	return false, false
}

func spaceEnd(r rune) (bool, bool) { return unicode.IsSpace(r), false }

// closer reports whether r closes a quotation or bracket and so belongs
// with the punctuation before it: `He said "Go." Then` cuts after the quote.
func closer(r rune) bool {
	return unicode.In(r, unicode.Pe, unicode.Pf) || r == '"' || r == '\''

}

// cutAfter cuts s after each boundary, taking along the run of further
// boundary runes and closers that follows it ("?!", "...", `."`).
func cutAfter(s string, end boundary) []string {
	var pieces []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		ends, needsSpace := end(r)
		if !ends {
			continue
		}
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if more, _ := end(r); !more && !closer(r) {
				break
			}
			i += size
		}
		if needsSpace && i < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[i:]); !unicode.IsSpace(r) {
				continue
			}
		}
		pieces = append(pieces, s[start:i])
		start = i
	}
	if start < len(s) {
		pieces = append(pieces, s[start:])
	}
	return pieces
}

// hardCut cuts s every maxRunes runes, moving each cut back so it does not
// fall inside a grapheme cluster, unless the cluster alone is longer than
// maxRunes.
func hardCut(s string, maxRunes int) []string {
	var pieces []string
	for s != "" {
		i := 0
		for n := 0; n < maxRunes && i < len(s); n++ {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		if i < len(s) {
			j := i
			for j > 0 && extendsCluster(s, j) {
				_, size := utf8.DecodeLastRuneInString(s[:j])
				j -= size
			}
			if j > 0 {
				i = j
			}
		}
		pieces = append(pieces, s[:i])
		s = s[i:]
	}
	return pieces
}

// extendsCluster reports whether the rune at byte i joins the one before
// it: a combining mark, a variation selector, an emoji skin tone or tag,
// or anything after a zero-width joiner.
func extendsCluster(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.Is(unicode.M, r) || prev == '\u200d' || r == '\u200d' ||
		unicode.Is(unicode.Variation_Selector, r) ||
		(r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F)
}

// speakPieces is how an engine that takes text a piece at a time speaks it:
// control characters read as spaces (a program's argument or input line
// cannot hold them), the text is cut at sentence ends into pieces of at
// most maxRunes, and each piece with something to say (a letter or a digit:
// engines fail, or make no sound, on bare punctuation) goes to speak, in
// order. Text with nothing to say writes one empty piece at rate.
func speakPieces(text string, maxRunes, rate int, w PCMWriter, speak func(piece string) error) error {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	spoken := false
	for _, piece := range Split(text, maxRunes) {
		if !strings.ContainsFunc(piece, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			continue
		}
		if err := speak(piece); err != nil {
			return err
		}
		spoken = true
	}
	if !spoken {
		return w.WritePCM(PCM{SampleRate: rate})
	}
	return nil
}
