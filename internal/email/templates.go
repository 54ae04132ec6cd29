package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// The kinds of message Render knows.
const (
	KindGenerationSucceeded = "generation.succeeded"
	KindGenerationFailed    = "generation.failed"
	// KindGenerationDigest tells of the audio that finished since the last
	// "audio ready" email, which Koe sends at most every few minutes.
	KindGenerationDigest     = "generation.digest"
	KindUsageThreshold       = "usage.threshold"
	KindBillingPaymentFailed = "billing.payment_failed"
	KindBillingPlanChanged   = "billing.plan_changed"
	KindBroadcast            = "broadcast"
)

// kindKeys lists the data each kind needs. Every kind also takes "Name"
// (the greeting; may be empty, and used only when SafeName keeps it) and
// "Unsubscribe" (the footer's link; only shown when set); broadcast also
// takes "HTML".
var kindKeys = map[string][]string{
	KindGenerationSucceeded:  {"Characters", "Voice", "URL"},
	KindGenerationFailed:     {"Reason", "URL"},
	KindGenerationDigest:     {"Count", "URL"},
	KindUsageThreshold:       {"Percent", "Used", "Quota", "PeriodEnd", "URL"},
	KindBillingPaymentFailed: {"URL"},
	KindBillingPlanChanged:   {"From", "To", "URL"},
	KindBroadcast:            {"Subject", "Text"},
}

//go:embed templates
var templateFS embed.FS

// Locales are the languages Koe writes to people in (it has templates for
// them); the first is the fallback.
var Locales = []string{"en", "ja"}

var (
	textTemplates = map[string]*texttemplate.Template{}
	htmlTemplates = map[string]*htmltemplate.Template{}
)

// The templates are part of the binary, so one that does not parse is a
// programming error, caught by any test of this package.
func init() {
	funcs := map[string]any{"num": formatNumber, "button": button}
	for _, loc := range Locales {
		textTemplates[loc] = texttemplate.Must(texttemplate.New(loc).Funcs(funcs).
			Option("missingkey=error").ParseFS(templateFS, "templates/"+loc+".txt"))
		htmlTemplates[loc] = htmltemplate.Must(htmltemplate.New(loc).Funcs(funcs).
			Option("missingkey=error").ParseFS(templateFS, "templates/layout.html", "templates/"+loc+".html"))
	}
}

// Render returns the subject, text and HTML of a message of kind in locale ("en" or "ja"; anything else falls back to "en"; "ja-JP" → "ja").
//
// data holds, for each kind (a missing or empty one is an error):
//
//	generation.succeeded    Characters, Voice, URL (the history page)
//	generation.failed       Reason, URL
//	generation.digest       Count (how many finished), URL
//	usage.threshold         Percent (80 or 100), Used, Quota, PeriodEnd (a formatted date), URL
//	billing.payment_failed  URL
//	billing.plan_changed    From, To, URL
//	broadcast               Subject (the operator's, used as is), Text, and optionally HTML
//
// and, for every kind, optionally Name (the greeting, dropped unless SafeName
// keeps it) and Unsubscribe (a URL the footer of both parts then offers). Numbers may be any integer type or
// whole float64. Values are escaped for HTML; only broadcast's HTML, which
// must already be sanitized, is inserted as is (without it, the HTML part is
// Text's paragraphs). Render sets the keys Lang, Title, Content and
// Paragraphs itself.
func Render(kind, locale string, data map[string]any) (subject, text, html string, err error) {
	required, ok := kindKeys[kind]
	if !ok {
		return "", "", "", fmt.Errorf("email: render: unknown kind %q", kind)
	}
	loc := Language(locale)
	d := make(map[string]any, len(data)+6)
	d["Name"], d["Unsubscribe"], d["HTML"] = "", "", ""
	for k, v := range data {
		d[k] = v
	}
	name, _ := d["Name"].(string)
	d["Name"] = SafeName(name)
	for _, k := range required {
		if v, ok := data[k]; !ok || v == nil || v == "" {
			return "", "", "", fmt.Errorf("email: render %s: missing %q", kind, k)
		}
	}
	switch kind {
	case KindUsageThreshold:
		p, ok := toInt(d["Percent"])
		if !ok {
			return "", "", "", fmt.Errorf("email: render %s: Percent %v is not a whole number", kind, d["Percent"])
		}
		d["Percent"] = p
	case KindGenerationDigest:
		n, ok := toInt(d["Count"])
		if !ok {
			return "", "", "", fmt.Errorf("email: render %s: Count %v is not a whole number", kind, d["Count"])
		}
		d["Count"] = n
	case KindBroadcast:
		d["Paragraphs"] = paragraphs(fmt.Sprint(d["Text"]))
		if h := fmt.Sprint(d["HTML"]); h != "" {
			d["HTML"] = htmltemplate.HTML(h) // sanitized by the operator tooling, see Render
		}
	}
	d["Lang"] = loc

	var buf bytes.Buffer
	tt := textTemplates[loc]
	if err := tt.ExecuteTemplate(&buf, kind+".subject", d); err != nil {
		return "", "", "", fmt.Errorf("email: render %s subject: %w", kind, err)
	}
	subject = oneLine(buf.String())
	d["Title"] = subject

	buf.Reset()
	if err := tt.ExecuteTemplate(&buf, kind+".text", d); err != nil {
		return "", "", "", fmt.Errorf("email: render %s text: %w", kind, err)
	}
	buf.WriteString("\n\n-- \n") // the signature separator, which clients dim
	if err := tt.ExecuteTemplate(&buf, "footer", d); err != nil {
		return "", "", "", fmt.Errorf("email: render %s footer: %w", kind, err)
	}
	text = strings.TrimSpace(buf.String()) + "\n"

	// The kind's block is rendered alone and placed in the shared layout:
	// html/template cannot pick a block by a name known only at run time.
	ht := htmlTemplates[loc]
	buf.Reset()
	if err := ht.ExecuteTemplate(&buf, kind, d); err != nil {
		return "", "", "", fmt.Errorf("email: render %s html: %w", kind, err)
	}
	d["Content"] = htmltemplate.HTML(buf.String()) // escaped by the execution above
	buf.Reset()
	if err := ht.ExecuteTemplate(&buf, "layout", d); err != nil {
		return "", "", "", fmt.Errorf("email: render %s layout: %w", kind, err)
	}
	return subject, text, buf.String(), nil
}

// Language maps a locale to the one of Locales Koe writes in: "ja", "ja-JP"
// and "ja_JP" to "ja", anything it has no templates for to "en".
func Language(locale string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(locale)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	for _, l := range Locales {
		if l == lang {
			return l
		}
	}
	return Locales[0]
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

// paragraphs splits a broadcast's text into paragraphs (at blank lines) of
// lines, for the HTML part when the operator wrote none.
func paragraphs(text string) [][]string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	var out [][]string
	for _, p := range blankLines.Split(text, -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Split(p, "\n"))
		}
	}
	return out
}

// button is the data of the layout's "button" block.
func button(url, label string) map[string]string {
	return map[string]string{"URL": url, "Label": label}
}

// formatNumber writes whole numbers with thousands separators (12,345 reads
// the same in English and Japanese); anything else is printed as is.
func formatNumber(v any) string {
	n, ok := toInt(v)
	if !ok {
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// toInt accepts the integer types, whole floats (JSON numbers) and numeric
// strings.
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int8:
		return int(x), true
	case int16:
		return int(x), true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case uint:
		return int(x), true
	case uint8:
		return int(x), true
	case uint16:
		return int(x), true
	case uint32:
		return int(x), true
	case uint64:
		return int(x), true
	case float32:
		return toInt(float64(x))
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}
