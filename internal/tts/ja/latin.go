package ja

import (
	"strings"
)

// Latin words inside Japanese text are read in the Japanese voice rather
// than left to the engine: espeak-ng's ja voice spells every Latin word
// letter by letter in English, switching to its English voice for each
// letter ("AI" → "ay eye", "Koe" → "kay oh ee"), which breaks the sentence.
// Koe reads a word that is written entirely in romaji as the Japanese word
// it spells (Koe → コエ, Tokyo → トキョ: romaji without macrons does not
// say which vowels are long), and spells anything else, acronyms first of
// all, with the Japanese names of the letters (AI → エーアイ), as Japanese
// speakers and Open JTalk do. English words are therefore spelled: a
// person's pronunciation lexicon (Google → グーグル) is how to say them.

// letterNames are the Japanese names of the Latin letters (JIS Z 8301's
// table of katakana letter names, as NHK reads them).
var letterNames = [26]string{
	"エー", "ビー", "シー", "ディー", "イー", "エフ", "ジー", "エイチ", "アイ", "ジェー", "ケー", "エル", "エム",
	"エヌ", "オー", "ピー", "キュー", "アール", "エス", "ティー", "ユー", "ブイ", "ダブリュー", "エックス", "ワイ", "ゼット",
}

// readLatin reads a word of Latin letters (ASCII).
func readLatin(word string) string {
	if len(word) > 1 && strings.ToUpper(word) != word {
		if kana, ok := romaji(strings.ToLower(word)); ok {
			return kana
		}
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(word) {
		if r >= 'A' && r <= 'Z' {
			b.WriteString(letterNames[r-'A'])
		}
	}
	return b.String()
}

// romajiSyllables are the Hepburn syllables (and the Kunrei spellings
// people also type: si, ti, tu, hu, zi), in katakana.
var romajiSyllables = map[string]string{
	"a": "ア", "i": "イ", "u": "ウ", "e": "エ", "o": "オ",
	"ka": "カ", "ki": "キ", "ku": "ク", "ke": "ケ", "ko": "コ", "kya": "キャ", "kyu": "キュ", "kyo": "キョ",
	"ga": "ガ", "gi": "ギ", "gu": "グ", "ge": "ゲ", "go": "ゴ", "gya": "ギャ", "gyu": "ギュ", "gyo": "ギョ",
	"sa": "サ", "shi": "シ", "si": "シ", "su": "ス", "se": "セ", "so": "ソ", "sha": "シャ", "shu": "シュ", "sho": "ショ",
	"za": "ザ", "ji": "ジ", "zi": "ジ", "zu": "ズ", "ze": "ゼ", "zo": "ゾ", "ja": "ジャ", "ju": "ジュ", "jo": "ジョ",
	"ta": "タ", "chi": "チ", "ti": "チ", "tsu": "ツ", "tu": "ツ", "te": "テ", "to": "ト", "cha": "チャ", "chu": "チュ", "cho": "チョ",
	"da": "ダ", "de": "デ", "do": "ド",
	"na": "ナ", "ni": "ニ", "nu": "ヌ", "ne": "ネ", "no": "ノ", "nya": "ニャ", "nyu": "ニュ", "nyo": "ニョ",
	"ha": "ハ", "hi": "ヒ", "fu": "フ", "hu": "フ", "he": "ヘ", "ho": "ホ", "hya": "ヒャ", "hyu": "ヒュ", "hyo": "ヒョ",
	"ba": "バ", "bi": "ビ", "bu": "ブ", "be": "ベ", "bo": "ボ", "bya": "ビャ", "byu": "ビュ", "byo": "ビョ",
	"pa": "パ", "pi": "ピ", "pu": "プ", "pe": "ペ", "po": "ポ", "pya": "ピャ", "pyu": "ピュ", "pyo": "ピョ",
	"ma": "マ", "mi": "ミ", "mu": "ム", "me": "メ", "mo": "モ", "mya": "ミャ", "myu": "ミュ", "myo": "ミョ",
	"ya": "ヤ", "yu": "ユ", "yo": "ヨ",
	"ra": "ラ", "ri": "リ", "ru": "ル", "re": "レ", "ro": "ロ", "rya": "リャ", "ryu": "リュ", "ryo": "リョ",
	"wa": "ワ", "wo": "ヲ",
}

// romaji reads a lower-case word as Hepburn romaji, if it is one: every
// letter belongs to a syllable, a doubled consonant (or "tch") is ッ, n
// not before a vowel or y (or written n') is ン, as is m before b, m, p
// (shimbun).
func romaji(w string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(w); {
		if w[i] == '\'' {
			i++
			continue
		}
		if n := syllableAt(w[i:]); n > 0 {
			b.WriteString(romajiSyllables[w[i:i+n]])
			i += n
			continue
		}
		c, next := w[i], byte(0)
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case c == 'n', c == 'm' && next != 0 && strings.IndexByte("bmp", next) >= 0:
			b.WriteString("ン")
		case next == c && !isVowel(c) && syllableAt(w[i+1:]) > 0, // kk, ss, pp
			c == 't' && next == 'c' && syllableAt(w[i+1:]) > 0: // tch
			b.WriteString("ッ")
		default:
			return "", false
		}
		i++
	}
	return b.String(), true
}

// syllableAt returns the length of the syllable s starts with, or 0. A
// syllable is never the n of ン before a consonant: "na" is ナ, "nka" is ン
// then カ.
func syllableAt(s string) int {
	for n := min(3, len(s)); n > 0; n-- {
		if _, ok := romajiSyllables[s[:n]]; ok {
			return n
		}
	}
	return 0
}

func isVowel(c byte) bool { return strings.IndexByte("aiueo", c) >= 0 }

// katakana turns hiragana into katakana; everything else stays.
func katakana(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ぁ' && r <= 'ゖ' {
			return r + ('ァ' - 'ぁ')
		}
		return r
	}, s)
}
