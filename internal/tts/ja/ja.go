// Package ja is the Japanese front end: it turns Japanese text into the
// katakana an engine that cannot read kanji says right. espeak-ng reads
// each kanji as the English words "Chinese letter" but speaks kana as
// Japanese, so Reading comes before every Japanese voice of such an engine
// (FrontEnd does that).
//
// Reading works in three steps. Numbers written in digits, with their
// counters, units and signs (2026年12月5日, 午後3時, 1,500円, 20%, 3.14),
// are replaced by their readings first, because the morphological analyser
// leaves digits as they are and reads 月 after them as ツキ. Then kagome
// with IPADIC splits the text into words and gives each its pronunciation
// (今日は → キョー ワ); numbers written in kanji (二十日, 八本) are read
// with the same counter rules, since IPADIC reads them digit by counter
// (ニ ジュー ニチ). Last, the words are written out in phrases (a word
// with the particles and endings that follow it: テンキデスネ), Latin words
// are read (see readLatin) and punctuation becomes the pauses engines make
// for 、 and 。.
package ja

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"

	"github.com/koe-voice/koe/internal/tts"
)

// analyser is kagome with IPADIC, made on first use: loading the
// dictionary takes 0.8–1 s (20 s under the race detector) and keeps 89 MB
// of heap (RSS grows by about 150 MB) for the life of the process, which a
// process that speaks no Japanese should not pay. Reading then takes about
// 2 ms per 1,000 characters. It is safe for concurrent use.
var analyser = sync.OnceValue(func() *tokenizer.Tokenizer {
	t, err := tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
	if err != nil {
		panic("ja: " + err.Error()) // only for a nil dictionary
	}
	return t
})

// Reading returns Japanese text as katakana phrases separated by spaces,
// with 、 。 ！ ？ where the text pauses: 今日は良い天気ですね。 →
// キョーワ ヨイ テンキデスネ。 Long vowels are written ー, as IPADIC's
// pronunciations are (espeak-ng reads キョウ as kyo-u). The first call
// loads the dictionary.
func Reading(text string) string {
	// NFKC folds full-width letters, digits and signs to ASCII and
	// half-width kana to full width, so the rules below see one form.
	text = readDigits(norm.NFKC.String(text))
	var w writer
	// The analyser takes time that grows with the square of a run of
	// letters of one kind (ten thousand digits, spelled, took 1.2 s), so
	// it reads pieces of at most analyserRunes, cut where the text pauses
	// or has a space.
	for _, piece := range tts.Split(text, analyserRunes) {
		tokens := analyser().Tokenize(piece)
		for i := 0; i < len(tokens); {
			i = w.token(piece, tokens, i)
		}
		w.split = true
	}
	return w.String()
}

// analyserRunes is the longest piece of text analysed at once: longer than
// nearly every sentence.
const analyserRunes = 200

// writer writes readings as phrases: a word starts a phrase, the particles
// and endings after it join it.
type writer struct {
	b strings.Builder
	// pause is the strongest pause since the last word, 0 when none.
	pause rune
	// split is set by a space or a symbol: the next word starts a phrase.
	split bool
	// prefix is set after a prefix (お, 第): the next word joins it.
	prefix bool
	// month is whether the last word was a month (ジューニガツ), so that a
	// 一日 after it is the first of the month.
	month bool
	// katakana is whether the last token was written in katakana.
	katakana bool
	// sahen is whether the last token was a verbal noun (サ変接続).
	sahen bool
}

func (w *writer) String() string {
	if w.pause != 0 && w.pause != '、' {
		w.b.WriteRune(w.pause)
	}
	w.pause = 0
	return w.b.String()
}

// word writes a reading, starting a phrase unless it joins the last one.
func (w *writer) word(kana string, joins bool) {
	if kana == "" {
		return
	}
	switch {
	case w.b.Len() == 0:
	case w.pause != 0:
		w.b.WriteRune(w.pause)
	case w.prefix || joins && !w.split:
		// IPADIC lengthens オ段 + ウ inside a word (キョー) but not
		// across words: 行きましょう is マショ + ウ, said マショー.
		if last, _ := utf8.DecodeLastRuneInString(w.b.String()); strings.HasPrefix(kana, "ウ") && strings.ContainsRune(oRow, last) {
			kana = "ー" + strings.TrimPrefix(kana, "ウ")
		}
	default:
		w.b.WriteByte(' ')
	}
	w.b.WriteString(kana)
	w.pause, w.split, w.prefix = 0, false, false
	w.month = strings.HasSuffix(kana, "ガツ")
}

// oRow are the kana that end in o, after which ウ is said as a long o.
const oRow = "オコゴソゾトドノホボポモヨロヲョォ"

// stop asks for a pause: 、 or the longer 。 ！ ？. Pauses before the first
// word are dropped, and of several in a row the longest is kept.
func (w *writer) stop(p rune) {
	if w.b.Len() > 0 && (w.pause == 0 || w.pause == '、') {
		w.pause = p
	}
}

// token writes tokens[i], or a number written in kanji that starts there
// with its counter, and returns the index of the next token to write.
func (w *writer) token(text string, tokens []tokenizer.Token, i int) int {
	if next := w.kanjiNumber(text, tokens, i); next > i {
		return next
	}
	t := tokens[i]
	pos := t.POS()
	kana, ok := t.Pronunciation()
	switch {
	case len(pos) > 0 && pos[0] == "記号", !ok || kana == "*" || kana == "":
		w.unknown(t.Surface, joins(pos))
	default:
		base, _ := t.BaseForm()
		// する after a verbal noun is one word with it: お願いします
		// オネガイシマス.
		verb := w.sahen && base == "する"
		w.word(kana, joins(pos) || verb || w.katakana && isKatakana(t.Surface))
		w.prefix = len(pos) > 0 && pos[0] == "接頭詞"
	}
	w.sahen = len(pos) > 1 && pos[1] == "サ変接続"
	// Words written in katakana one after the other are one phrase: a
	// compound (テストケース), or a reading readDigits wrote that the
	// analyser split (ジューキュー).
	w.katakana = isKatakana(t.Surface)
	return i + 1
}

// isKatakana reports whether s is written in katakana only.
func isKatakana(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Katakana, r) && r != 'ー' {
			return false
		}
	}
	return s != ""
}

// joins reports whether a word of this part of speech belongs to the
// phrase before it: particles, auxiliaries, suffixes, dependent words.
func joins(pos []string) bool {
	if len(pos) == 0 {
		return false
	}
	if pos[0] == "助詞" || pos[0] == "助動詞" {
		return true
	}
	return len(pos) > 1 && (pos[1] == "接尾" || pos[1] == "非自立")
}

// unknown writes what the dictionary has no reading for, run by run: kana
// as it is, Latin words by readLatin, symbols as pauses or their names.
// Kanji without a reading are left out: espeak-ng would say "Chinese
// letter" (a person's lexicon can give them a reading).
func (w *writer) unknown(s string, joins bool) {
	for s != "" {
		r, _ := utf8.DecodeRuneInString(s)
		n := strings.IndexFunc(s, func(c rune) bool { return class(c) != class(r) })
		if n < 0 {
			n = len(s)
		}
		run := s[:n]
		s = s[n:]
		switch class(r) {
		case classKana:
			w.word(katakana(run), joins || w.katakana && isKatakana(run))
		case classLatin:
			w.word(readLatin(run), false)
		case classHan:
			w.split = true
		default:
			for _, c := range run {
				w.symbol(c)
			}
		}
	}
}

type runeClass int

const (
	classOther runeClass = iota
	classKana
	classLatin
	classHan
)

func class(r rune) runeClass {
	switch {
	case unicode.In(r, unicode.Hiragana, unicode.Katakana) || r == 'ー':
		return classKana
	case isLatin(r):
		return classLatin
	case unicode.Is(unicode.Han, r):
		return classHan
	}
	return classOther
}

// symbolNames are the signs said as words.
var symbolNames = map[rune]string{'+': "プラス", '=': "イコール", '&': "アンド", '@': "アット", '×': "カケル", '÷': "ワル"}

// symbol writes a punctuation mark or sign: 、 and 。 (in any width) and
// the other marks that end clauses and sentences become pauses, quotes and
// brackets short ones, a line break a long one; signs with a name are
// said; anything else only separates words.
func (w *writer) symbol(r rune) {
	switch {
	case strings.ContainsRune("、,;:", r):
		w.stop('、')
	case strings.ContainsRune("。.\n", r):
		w.stop('。')
	case r == '!':
		w.stop('！')
	case r == '?':
		w.stop('？')
	case unicode.In(r, unicode.Ps, unicode.Pe, unicode.Pi, unicode.Pf) || r == '"' || r == '\'':
		w.stop('、')
	case symbolNames[r] != "":
		w.word(symbolNames[r], false)
	default:
		w.split = true
	}
}

// kanjiNumber writes a number written in kanji that starts at tokens[i]
// (IPADIC gives each numeral a token of its own: 二 千 二 十 六), with
// the counter after it, and returns the index of the token after them; i
// when there is none.
func (w *writer) kanjiNumber(text string, tokens []tokenizer.Token, i int) int {
	j := i
	for j < len(tokens) && isKanjiNumeral(tokens[j]) {
		j++
	}
	if j == i {
		return i
	}
	start, end := tokens[i].Position, tokens[j-1].Position+len(tokens[j-1].Surface)
	n, ok := kanjiNumber(text[start:end])
	if !ok {
		// Numerals that are not one number (二三日, two or three
		// days) are said one after the other, as one word.
		var b strings.Builder
		for _, t := range tokens[i:j] {
			kana, _ := t.Pronunciation()
			b.WriteString(kana)
		}
		w.word(b.String(), false)
		return j
	}
	reading, counted, _ := count(integer(n), text[end:], w.month)
	if counted > 0 {
		// The counter must be whole tokens: 十分間 is 十 + 分間, but
		// in 五人前 the 人 of 人前 (ニンマエ) counts nothing.
		stop, k := end+counted, j
		for k < len(tokens) && tokens[k].Position+len(tokens[k].Surface) <= stop {
			k++
		}
		if k > j && tokens[k-1].Position+len(tokens[k-1].Surface) == stop {
			j = k
		} else {
			reading = strings.Join(integer(n).els, "")
		}
	}
	w.word(reading, false)
	return j
}

// isKanjiNumeral reports whether t is a numeral written in kanji (名詞,数:
// 二, 十, 〇; not 何 or 数, which IPADIC also calls numerals).
func isKanjiNumeral(t tokenizer.Token) bool {
	pos := t.POS()
	if len(pos) < 2 || pos[0] != "名詞" || pos[1] != "数" {
		return false
	}
	for _, r := range t.Surface {
		if _, digit := kanjiDigits[r]; !digit {
			if _, unit := kanjiUnits[r]; !unit {
				return false
			}
		}
	}
	return t.Surface != ""
}
