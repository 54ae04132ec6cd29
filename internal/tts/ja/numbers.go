package ja

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A number's reading is kept as elements ("ニ", "セン", "ニ", "ジュー",
// "ロク") until its counter is known, because the counter changes the last
// element and the counter together: 一本 is イッポン, 三本 サンボン, 六百本
// ロッピャッポン.

// digitKana are the digits' readings when counting: 4 is ヨン, 7 ナナ,
// 9 キュー (NHK's readings for numbers said alone; counters that take
// シ, シチ or ク say so in their forms).
var digitKana = [10]string{"ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュー"}

// spelledDigitKana are the digits' readings when a number is read digit by
// digit (telephone numbers, codes with leading zeros): the one-mora digits
// 2 and 5 are said long, ニー and ゴー.
var spelledDigitKana = [10]string{"ゼロ", "イチ", "ニー", "サン", "ヨン", "ゴー", "ロク", "ナナ", "ハチ", "キュー"}

// maxNumber bounds the numbers read as numbers: up to 9999兆. Longer digit
// strings are read digit by digit.
const maxNumber uint64 = 9_999_999_999_999_999

// numberElements returns the reading of n (0 ≤ n ≤ maxNumber) as elements,
// in groups of four digits as Japanese counts (万, 億, 兆).
func numberElements(n uint64) []string {
	if n == 0 {
		return []string{digitKana[0]}
	}
	var els []string
	for _, big := range []struct {
		value uint64
		kana  string
	}{{1e12, "チョー"}, {1e8, "オク"}, {1e4, "マン"}, {1, ""}} {
		g := int(n / big.value % 10000)
		if g == 0 {
			continue
		}
		group := groupElements(g, big.kana == "マン")
		if big.kana == "チョー" {
			// 一兆 イッチョー, 八兆 ハッチョー, 十兆 ジュッチョー.
			group = geminateLast(group, "イチ", "ハチ", "ジュー")
		}
		els = append(els, group...)
		if big.kana != "" {
			els = append(els, big.kana)
		}
	}
	return els
}

// places are the digits' places within a group of four, with the
// readings NHK gives digits before them where they change (三百 サンビャク,
// 六百 ロッピャク, 八百 ハッピャク, 三千 サンゼン, 八千 ハッセン). A one
// before them is not said (百, not イチヒャク).
var places = []struct {
	value     int
	kana      string
	irregular map[int][]string
}{
	{1000, "セン", map[int][]string{3: {"サン", "ゼン"}, 8: {"ハッ", "セン"}}},
	{100, "ヒャク", map[int][]string{3: {"サン", "ビャク"}, 6: {"ロッ", "ピャク"}, 8: {"ハッ", "ピャク"}}},
	{10, "ジュー", nil},
}

// groupElements reads 1..9999. A thousand is セン, but イッセン before
// 万 (一千万 イッセンマン).
func groupElements(g int, beforeMan bool) []string {
	var els []string
	for _, p := range places {
		switch d := g / p.value % 10; {
		case d == 0:
		case p.irregular[d] != nil:
			els = append(els, p.irregular[d]...)
		case d == 1 && p.value == 1000 && beforeMan:
			els = append(els, "イッセン")
		case d == 1:
			els = append(els, p.kana)
		default:
			els = append(els, digitKana[d], p.kana)
		}
	}
	if on := g % 10; on > 0 {
		els = append(els, digitKana[on])
	}
	return els
}

// geminate is the form an element takes before a counter that doubles its
// first consonant: イチ → イッ, ロク → ロッ, ハチ → ハッ, ジュー → ジュッ
// (NHK's ジュッ, beside the older ジッ), ヒャク → ヒャッ.
func geminate(el string) string {
	switch {
	case el == "ジュー":
		return "ジュッ"
	case strings.HasSuffix(el, "チ"), strings.HasSuffix(el, "ク"):
		_, size := utf8.DecodeLastRuneInString(el)
		return el[:len(el)-size] + "ッ"
	}
	return el
}

// geminateLast geminates the last element when it is one of these.
func geminateLast(els []string, these ...string) []string {
	if len(els) > 0 && slices.Contains(these, els[len(els)-1]) {
		els = append(els[:len(els)-1:len(els)-1], geminate(els[len(els)-1]))
	}
	return els
}

// A counter (助数詞) is read after a number, and often changes how the
// number's last element is said. The rules are those of NHK 日本語発音アクセント
// 新辞典's appendix on counters (数詞+助数詞), taking its first reading
// where it gives two.
type counter struct {
	// kana is the counter's reading after most numbers.
	kana string
	// whole are readings of the number and counter together, for the
	// numbers said irregularly (一人 ヒトリ, 二十日 ハツカ).
	whole map[uint64]string
	// forms are the forms the number's last element takes before the
	// counter (四人 ヨニン: ヨン → ヨ).
	forms map[string]string
	// geminates are the last elements that double before the counter,
	// which is then read gemKana (一本 イッポン).
	geminates []string
	gemKana   string
	// voicing are the last elements after which the counter is read
	// voicedKana (三本 サンボン).
	voicing    []string
	voicedKana string
}

// The last elements that geminate before counters starting with k, s, t or
// h (a hundred too, in all its forms).
var (
	gemAll   = []string{"イチ", "ロク", "ハチ", "ジュー", "ヒャク", "ビャク", "ピャク"}
	gemFew   = []string{"イチ", "ハチ", "ジュー"}
	gemNoHun = []string{"イチ", "ロク", "ハチ", "ジュー"}
	nasals   = []string{"サン", "セン", "ゼン", "マン"}
)

// hRow is a counter starting with h: ホン, ポン after a geminate, ボン
// after サン, セン and マン (本, 匹, 杯).
func hRow(h, p, b string) counter {
	return counter{kana: h, geminates: gemAll, gemKana: p, voicing: nasals, voicedKana: b}
}

// days are the native readings of dates and counts of days (NHK: 一日
// ツイタチ as a date, イチニチ as a count).
var days = map[uint64]string{
	1: "ツイタチ", 2: "フツカ", 3: "ミッカ", 4: "ヨッカ", 5: "イツカ", 6: "ムイカ", 7: "ナノカ", 8: "ヨーカ",
	9: "ココノカ", 10: "トーカ", 14: "ジューヨッカ", 20: "ハツカ", 24: "ニジューヨッカ",
}

// dayCount is 日 not after a month: 一日 is a day's length, イチニチ.
var dayCount = counter{kana: "ニチ", whole: withWhole(days, 1, "イチニチ"), forms: map[string]string{"ナナ": "シチ", "キュー": "ク"}}

func withWhole(m map[uint64]string, n uint64, kana string) map[uint64]string {
	out := map[uint64]string{n: kana}
	for k, v := range m {
		if k != n {
			out[k] = v
		}
	}
	return out
}

// counters are the counters read with their own rules, by how they are
// written. Counters not here are read after the number as the dictionary
// reads them.
var counters = map[string]counter{
	// Dates and times.
	"年":  {kana: "ネン", forms: map[string]string{"ヨン": "ヨ"}},
	"年間": {kana: "ネンカン", forms: map[string]string{"ヨン": "ヨ"}},
	"年生": {kana: "ネンセー", forms: map[string]string{"ヨン": "ヨ"}},
	"年代": {kana: "ネンダイ"},
	"月":  {kana: "ガツ", forms: map[string]string{"ヨン": "シ", "ナナ": "シチ", "キュー": "ク"}},
	"日":  {kana: "ニチ", whole: days, forms: map[string]string{"ナナ": "シチ", "キュー": "ク"}},
	"日間": {kana: "ニチカン", whole: suffixed(withWhole(days, 1, "イチニチ"), "カン"), forms: map[string]string{"ナナ": "シチ", "キュー": "ク"}},
	"時":  {kana: "ジ", whole: map[uint64]string{0: "レージ"}, forms: map[string]string{"ヨン": "ヨ", "ナナ": "シチ", "キュー": "ク"}},
	"時間": {kana: "ジカン", forms: map[string]string{"ヨン": "ヨ", "ナナ": "シチ", "キュー": "ク"}},
	"分":  {kana: "フン", geminates: gemAll, gemKana: "プン", voicing: []string{"サン", "ヨン", "セン", "ゼン", "マン"}, voicedKana: "プン"},
	"分間": {kana: "フンカン", geminates: gemAll, gemKana: "プンカン",
		voicing: []string{"サン", "ヨン", "セン", "ゼン", "マン"}, voicedKana: "プンカン"},
	"秒":  {kana: "ビョー"},
	"秒間": {kana: "ビョーカン"},
	"週間": {kana: "シューカン", geminates: gemFew, gemKana: "シューカン"},
	"か月": {kana: "カゲツ", geminates: gemAll, gemKana: "カゲツ"},
	"ヶ月": {kana: "カゲツ", geminates: gemAll, gemKana: "カゲツ"},
	"カ月": {kana: "カゲツ", geminates: gemAll, gemKana: "カゲツ"},
	"ヵ月": {kana: "カゲツ", geminates: gemAll, gemKana: "カゲツ"},

	// People, things, times.
	"人": {kana: "ニン", whole: map[uint64]string{1: "ヒトリ", 2: "フタリ"}, forms: map[string]string{"ヨン": "ヨ"}},
	"つ": {kana: "ツ", whole: map[uint64]string{
		1: "ヒトツ", 2: "フタツ", 3: "ミッツ", 4: "ヨッツ", 5: "イツツ", 6: "ムッツ", 7: "ナナツ", 8: "ヤッツ", 9: "ココノツ", 10: "トー"}},
	"本": hRow("ホン", "ポン", "ボン"),
	"匹": hRow("ヒキ", "ピキ", "ビキ"),
	"杯": hRow("ハイ", "パイ", "バイ"),
	"個": {kana: "コ", geminates: gemAll, gemKana: "コ"},
	"回": {kana: "カイ", geminates: gemAll, gemKana: "カイ"},
	"階": {kana: "カイ", geminates: gemAll, gemKana: "カイ", voicing: []string{"サン"}, voicedKana: "ガイ"},
	"件": {kana: "ケン", geminates: gemAll, gemKana: "ケン"},
	"冊": {kana: "サツ", geminates: gemFew, gemKana: "サツ"},
	"歳": {kana: "サイ", whole: map[uint64]string{20: "ハタチ"}, geminates: gemFew, gemKana: "サイ"},
	"才": {kana: "サイ", whole: map[uint64]string{20: "ハタチ"}, geminates: gemFew, gemKana: "サイ"},
	"点": {kana: "テン", geminates: gemFew, gemKana: "テン"},
	"枚": {kana: "マイ"},
	"台": {kana: "ダイ"},
	"度": {kana: "ド"},
	"倍": {kana: "バイ"},
	"番": {kana: "バン"},
	"位": {kana: "イ"},
	"名": {kana: "メー"},
	"円": {kana: "エン", forms: map[string]string{"ヨン": "ヨ"}},

	// Signs and units written after numbers.
	"%":  {kana: "パーセント", geminates: gemNoHun, gemKana: "パーセント"},
	"℃":  {kana: "ド"},
	"°C": {kana: "ド"},
	"°":  {kana: "ド"},
	"km": {kana: "キロメートル"}, "m": {kana: "メートル"}, "cm": {kana: "センチメートル"}, "mm": {kana: "ミリメートル"},
	"kg": {kana: "キログラム"}, "g": {kana: "グラム"}, "mg": {kana: "ミリグラム"},
	"ml": {kana: "ミリリットル"}, "mL": {kana: "ミリリットル"}, "L": {kana: "リットル"},
	"KB": {kana: "キロバイト"}, "MB": {kana: "メガバイト"}, "GB": {kana: "ギガバイト"}, "TB": {kana: "テラバイト"},
	"Hz": {kana: "ヘルツ"}, "kHz": {kana: "キロヘルツ"}, "MHz": {kana: "メガヘルツ"}, "GHz": {kana: "ギガヘルツ"},
}

// currencies are signs written before an amount, read after it.
var currencies = map[rune]counter{'¥': counters["円"], '$': {kana: "ドル"}, '€': {kana: "ユーロ"}, '£': {kana: "ポンド"}}

// pointCounter is the decimal point: 一・五 is イッテンゴ, 八・五 ハッテンゴ.
var pointCounter = counter{kana: "テン", geminates: gemFew, gemKana: "テン"}

func suffixed(m map[uint64]string, suffix string) map[uint64]string {
	out := make(map[uint64]string, len(m))
	for k, v := range m {
		out[k] = v + suffix
	}
	return out
}

// read reads a number's elements (n is its value, for the irregular
// readings; a decimal passes noWhole) with counter c.
func (c counter) read(els []string, n uint64) string {
	if r, ok := c.whole[n]; ok {
		return r
	}
	head, last := strings.Join(els[:len(els)-1], ""), els[len(els)-1]
	switch f, ok := c.forms[last]; {
	case ok:
		return head + f + c.kana
	case slices.Contains(c.geminates, last):
		return head + geminate(last) + c.gemKana
	case slices.Contains(c.voicing, last):
		return head + last + c.voicedKana
	}
	return head + last + c.kana
}

// noWhole is a value no irregular reading has: decimals and digit strings.
const noWhole = ^uint64(0)

// numeral is a number as read so far: its elements and its value (noWhole
// for decimals and digit strings).
type numeral struct {
	els   []string
	value uint64
}

// decimal reads a number with a fraction: the integer part (0 is レー),
// テン, then the fraction's digits one by one (3.14 サンテンイチヨン).
func decimal(whole uint64, fraction string) numeral {
	intEls := []string{"レー"}
	if whole > 0 {
		intEls = numberElements(whole)
	}
	els := []string{pointCounter.read(intEls, whole)}
	for _, d := range fraction {
		els = append(els, digitKana[d-'0'])
	}
	return numeral{els: els, value: noWhole}
}

// spelled reads digits one by one (090 ゼロキューゼロ).
func spelled(digits string) numeral {
	var b strings.Builder
	for _, d := range digits {
		b.WriteString(spelledDigitKana[d-'0'])
	}
	return numeral{els: []string{b.String()}, value: noWhole}
}

// integer reads a whole number.
func integer(n uint64) numeral { return numeral{els: numberElements(n), value: n} }

// kanjiDigits are the kanji numerals' values.
var kanjiDigits = map[rune]uint64{'〇': 0, '零': 0, '一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// kanjiUnits multiply the digits before them: 十, 百, 千 within a group of
// four digits, 万, 億, 兆 close the group.
var kanjiUnits = map[rune]uint64{'十': 10, '百': 100, '千': 1000, '万': 1e4, '億': 1e8, '兆': 1e12}

// accumulator adds up a number written with multipliers, in Arabic or kanji
// digits or both: 二千二十六, 3億5000万, 1万2千.
type accumulator struct {
	total, section, current uint64
	digits                  bool // whether current was written
	overflow                bool
}

func (a *accumulator) digit(v uint64) {
	a.current, a.digits = v, true
}

// positional appends a digit written positionally (二〇二六).
func (a *accumulator) positional(v uint64) {
	if a.current > maxNumber/10 {
		a.overflow = true
		return
	}
	a.current, a.digits = a.current*10+v, true
}

func (a *accumulator) unit(u uint64) {
	c := a.current
	if !a.digits {
		c = 1 // 十 is ten, 百 a hundred
	}
	switch {
	case u < 1e4:
		a.section += c * u
	default:
		s := a.section + a.current
		if s == 0 && !a.digits {
			s = 1 // 万 alone is ten thousand
		}
		a.total += s * u
		a.section = 0
	}
	a.current, a.digits = 0, false
	if a.total > maxNumber {
		a.overflow = true
	}
}

func (a *accumulator) value() (uint64, bool) {
	v := a.total + a.section + a.current
	return v, !a.overflow && v <= maxNumber
}

// kanjiNumber reads a number written in kanji numerals, with multipliers
// (二千二十六) or positionally with 〇 (二〇二六). A run of bare digits
// without 〇 (二三日, "two or three days") is not a number: ok is false.
func kanjiNumber(s string) (n uint64, ok bool) {
	var a accumulator
	hasUnit, hasZero, runes := false, false, 0
	for _, r := range s {
		runes++
		if _, ok := kanjiUnits[r]; ok {
			hasUnit = true
		}
		if kanjiDigits[r] == 0 {
			if _, ok := kanjiDigits[r]; ok {
				hasZero = true
			}
		}
	}
	if !hasUnit && !hasZero && runes > 1 {
		return 0, false
	}
	for _, r := range s {
		if u, ok := kanjiUnits[r]; ok {
			a.unit(u)
			continue
		}
		if hasUnit {
			a.digit(kanjiDigits[r])
		} else {
			a.positional(kanjiDigits[r])
		}
	}
	return a.value()
}
