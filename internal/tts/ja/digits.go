package ja

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readDigits replaces the numbers written in Arabic digits, with the
// counter, unit or sign that goes with them, by their readings in katakana,
// each after a space so the analyser takes it as a word of its own: the
// analyser leaves digits as they are (2026 ネン 12 ツキ 5 ニチ). It runs
// on text whose full-width digits were folded to ASCII.
func readDigits(s string) string {
	var (
		b strings.Builder
		// month is whether the last thing written was a month
		// (12月): then 1日 is the first of it, ツイタチ.
		month bool
	)
	for i := 0; i < len(s); {
		rest := s[i:]
		if reading, n := readDate(rest); n > 0 {
			b.WriteString(" " + reading)
			i, month = i+n, false
			continue
		}
		if reading, n := readClock(rest); n > 0 {
			b.WriteString(" " + reading)
			i, month = i+n, false
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		switch c, currency := currencies[r]; {
		case currency && startsWithDigit(rest[size:]):
			num, n := scanNumber(rest[size:])
			b.WriteString(" " + c.read(num.els, num.value))
			i, month = i+size+n, false
		case (r == '-' || r == '−') && startsWithDigit(rest[size:]) && !wordBefore(s[:i]):
			b.WriteString(" マイナス")
			i += size
		case isDigit(r):
			num, n := scanNumber(rest)
			reading, counted, name := count(num, rest[n:], month)
			b.WriteString(" " + reading)
			i, month = i+n+counted, name == "月"
			// 10〜20人: ジュー カラ ニジューニン.
			if r, size := utf8.DecodeRuneInString(s[i:]); (r == '~' || r == '〜') && startsWithDigit(s[i+size:]) {
				b.WriteString(" カラ")
				i += size
			}
		default:
			b.WriteString(rest[:size])
			i += size
			if r != ' ' {
				month = false
			}
		}
	}
	return b.String()
}

// count reads a number with the counter that follows it in rest, if one
// of counters does: the reading, the bytes of rest the counter took, and
// the counter. afterMonth says a month came just before (for 1日).
func count(num numeral, rest string, afterMonth bool) (reading string, n int, name string) {
	name = counterAt(rest)
	if name == "" {
		return strings.Join(num.els, ""), 0, ""
	}
	c := counters[name]
	if name == "日" && !afterMonth {
		c = dayCount
	}
	return c.read(num.els, num.value), len(name), name
}

// longestCounter is the length in bytes of the longest name in counters.
var longestCounter = func() int {
	n := 0
	for name := range counters {
		n = max(n, len(name))
	}
	return n
}()

// counterAt returns the longest counter s starts with, or "". A counter
// written in Latin letters (km, GB) counts only when no letter follows it.
func counterAt(s string) string {
	for n := min(len(s), longestCounter); n > 0; n-- {
		name := s[:n]
		if _, ok := counters[name]; !ok {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(name); isLatin(r) {
			if next, _ := utf8.DecodeRuneInString(s[n:]); isLatin(next) {
				continue
			}
		}
		return name
	}
	return ""
}

var (
	// dateNumeric is a date written 2026/12/05, 2026-12-05 or 2026.12.05.
	dateNumeric = regexp.MustCompile(`^(\d{4})([/.-])(\d{1,2})([/.-])(\d{1,2})`)
	// clock is a time of day written 10:30 or 10:30:15.
	clock = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2}))?`)
)

// readDate reads a numeric date at the start of s as 年, 月 and 日.
func readDate(s string) (string, int) {
	m := dateNumeric.FindStringSubmatch(s)
	if m == nil || m[2] != m[4] || startsWithDigit(s[len(m[0]):]) {
		return "", 0
	}
	y, _ := strconv.ParseUint(m[1], 10, 64)
	mo, _ := strconv.ParseUint(m[3], 10, 64)
	d, _ := strconv.ParseUint(m[5], 10, 64)
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return "", 0
	}
	return counters["年"].read(numberElements(y), y) + " " + counters["月"].read(numberElements(mo), mo) + " " +
		counters["日"].read(numberElements(d), d), len(m[0])
}

// readClock reads a time of day at the start of s as 時, 分 and 秒; no
// minutes are said for :00.
func readClock(s string) (string, int) {
	m := clock.FindStringSubmatch(s)
	if m == nil || startsWithDigit(s[len(m[0]):]) {
		return "", 0
	}
	h, _ := strconv.ParseUint(m[1], 10, 64)
	mi, _ := strconv.ParseUint(m[2], 10, 64)
	if h > 24 || mi > 59 {
		return "", 0
	}
	out := counters["時"].read(numberElements(h), h)
	if mi > 0 {
		out += " " + counters["分"].read(numberElements(mi), mi)
	}
	if m[3] != "" {
		if sec, _ := strconv.ParseUint(m[3], 10, 64); sec > 0 && sec < 60 {
			out += " " + counters["秒"].read(numberElements(sec), sec)
		}
	}
	return out, len(m[0])
}

// scanNumber reads the number at the start of s (a digit): digits with
// thousands separators (1,500), a decimal fraction (3.14), kanji
// multipliers (5千, 3億5000万), or, for a string with a leading zero or too
// long to count, digit by digit. It returns the number and its length in
// bytes.
func scanNumber(s string) (numeral, int) {
	digits, n := scanDigits(s)
	if len(digits) > 16 {
		return spelled(digits), n
	}
	if n+1 < len(s) && s[n] == '.' && isDigit(rune(s[n+1])) {
		k := n + 1
		for k < len(s) && isDigit(rune(s[k])) {
			k++
		}
		whole, _ := strconv.ParseUint(digits, 10, 64)
		num := decimal(whole, s[n+1:k])
		// 1.5万: the multiplier is read after the fraction.
		if r, size := utf8.DecodeRuneInString(s[k:]); bigUnitKana[r] != "" {
			num.els = append(num.els, bigUnitKana[r])
			k += size
		}
		return num, k
	}
	if len(digits) > 1 && digits[0] == '0' {
		// A telephone number: 090-1234-5678 is ゼロキューゼロノ
		// イチニーサンヨンノ ゴーロクナナハチ.
		num := spelled(digits)
		for n+1 < len(s) && s[n] == '-' && isDigit(rune(s[n+1])) {
			more, k := scanDigits(s[n+1:])
			num.els[0] += "ノ " + spelled(more).els[0]
			n += 1 + k
		}
		return num, n
	}
	var a accumulator
	v, _ := strconv.ParseUint(digits, 10, 64)
	a.digit(v)
	for afterUnit := false; n < len(s); {
		r, size := utf8.DecodeRuneInString(s[n:])
		if u, ok := kanjiUnits[r]; ok {
			a.unit(u)
			n, afterUnit = n+size, true
			continue
		}
		if !afterUnit || !isDigit(r) {
			break
		}
		more, k := scanDigits(s[n:])
		if len(more) > 1 && more[0] == '0' {
			break
		}
		v, _ := strconv.ParseUint(more, 10, 64)
		a.digit(v)
		n, afterUnit = n+k, false
	}
	total, ok := a.value()
	if !ok {
		return spelled(digits), len(digits)
	}
	return integer(total), n
}

// scanDigits reads a run of digits at the start of s, with thousands
// separators when every group after the first has three digits (1,500;
// not 1,5 or 1500,000). It returns the digits without separators and the
// bytes read.
func scanDigits(s string) (string, int) {
	n := 0
	for n < len(s) && isDigit(rune(s[n])) {
		n++
	}
	digits := s[:n]
	if n > 3 {
		return digits, n
	}
	for n+4 <= len(s) && s[n] == ',' && isDigit(rune(s[n+1])) && isDigit(rune(s[n+2])) && isDigit(rune(s[n+3])) &&
		(n+4 == len(s) || !isDigit(rune(s[n+4]))) {
		digits += s[n+1 : n+4]
		n += 4
	}
	return digits, n
}

// bigUnitKana are the readings of the multipliers that close a group of
// four digits.
var bigUnitKana = map[rune]string{'万': "マン", '億': "オク", '兆': "チョー"}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func startsWithDigit(s string) bool { return s != "" && isDigit(rune(s[0])) }

// wordBefore reports whether s ends in a letter or digit: then a "-" before
// digits joins them (COVID-19, 03-1234) rather than being a minus sign.
func wordBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isDigit(r) || isLatin(r)
}

func isLatin(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
