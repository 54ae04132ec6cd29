package email

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// sampleData returns data for every kind, with hostile user values.
func sampleData() map[string]map[string]any {
	return map[string]map[string]any{
		KindGenerationSucceeded:  {"Name": `Ada <script>alert("x")</script>`, "Characters": 12345, "Voice": `Aria & <b>Co</b>`, "URL": "https://koe.test/history"},
		KindGenerationFailed:     {"Name": "Ada", "Reason": `<img src=x onerror=alert(1)> too long`, "URL": "https://koe.test/history"},
		KindGenerationDigest:     {"Name": "Ada", "Count": 3, "URL": "https://koe.test/history"},
		KindUsageThreshold:       {"Name": "Ada", "Percent": 80, "Used": 80000, "Quota": 100000, "PeriodEnd": "2026-12-01", "URL": "https://koe.test/billing"},
		KindBillingPaymentFailed: {"Name": "Ada", "URL": "https://koe.test/billing"},
		KindBillingPlanChanged:   {"Name": "Ada", "From": "Free", "To": "Pro", "URL": "https://koe.test/billing"},
		KindBroadcast:            {"Name": "Ada", "Subject": "Koe news", "Text": "New voices are here.\n\nTry them <today>."},
	}
}

// hasJapanese reports whether s holds kana or kanji.
func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}

func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	for kind, data := range sampleData() {
		for _, loc := range []string{"en", "ja"} {
			t.Run(kind+"/"+loc, func(t *testing.T) {
				t.Parallel()
				subject, text, html, err := Render(kind, loc, data)
				require.NoError(t, err)
				require.NotEmpty(t, strings.TrimSpace(subject))
				require.NotEmpty(t, strings.TrimSpace(text))
				require.Contains(t, html, "<html lang=\""+loc+"\">")
				require.NotContains(t, text, "<no value>")
				require.NotContains(t, html, "<no value>")
				if kind != KindBroadcast { // the operator writes broadcasts in one language
					require.Equal(t, loc == "ja", hasJapanese(subject), subject)
					require.Equal(t, loc == "ja", hasJapanese(text), text)
					require.Equal(t, loc == "ja", hasJapanese(html))
				}
				if u, ok := data["URL"].(string); ok {
					require.Contains(t, text, u)
					require.Contains(t, html, `href="`+u+`"`)
				}
			})
		}
	}
}

func TestRenderLocales(t *testing.T) {
	t.Parallel()
	data := sampleData()[KindBillingPlanChanged]
	ja, _, _, err := Render(KindBillingPlanChanged, "ja", data)
	require.NoError(t, err)
	en, _, _, err := Render(KindBillingPlanChanged, "en", data)
	require.NoError(t, err)
	for loc, want := range map[string]string{"ja-JP": ja, "JA_jp": ja, "en-US": en, "fr": en, "": en} {
		got, _, _, err := Render(KindBillingPlanChanged, loc, data)
		require.NoError(t, err)
		require.Equal(t, want, got, loc)
	}
}

func TestRenderEscapesUserValues(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"en", "ja"} {
		_, text, html, err := Render(KindGenerationSucceeded, loc, sampleData()[KindGenerationSucceeded])
		require.NoError(t, err)
		require.NotContains(t, html, "<script>")
		require.NotContains(t, html, "script", "a name that is not plain words is not shown at all")
		require.NotContains(t, text, "script")
		require.Contains(t, html, "Aria &amp; &lt;b&gt;Co&lt;/b&gt;")
		require.Contains(t, text, `Aria & <b>Co</b>`, "plain text is not HTML-escaped")
		require.Contains(t, text, "12,345")

		_, _, html, err = Render(KindGenerationFailed, loc, sampleData()[KindGenerationFailed])
		require.NoError(t, err)
		require.NotContains(t, html, "<img")
		require.Contains(t, html, "&lt;img src=x onerror=alert(1)&gt; too long")
	}

	// A link that is not http(s) never becomes one.
	data := sampleData()[KindBillingPaymentFailed]
	data["URL"] = "javascript:alert(1)"
	_, _, html, err := Render(KindBillingPaymentFailed, "en", data)
	require.NoError(t, err)
	require.NotContains(t, html, `href="javascript:`)
}

func TestRenderUnsubscribeFooter(t *testing.T) {
	t.Parallel()
	const link = "https://koe.test/unsubscribe?t=abc.def"
	for kind, data := range sampleData() {
		for _, loc := range []string{"en", "ja"} {
			_, text, html, err := Render(kind, loc, data)
			require.NoError(t, err)
			require.NotContains(t, text, "/unsubscribe")
			require.NotContains(t, html, "/unsubscribe")

			with := map[string]any{"Unsubscribe": link}
			for k, v := range data {
				with[k] = v
			}
			_, text, html, err = Render(kind, loc, with)
			require.NoError(t, err)
			require.Contains(t, text, link)
			require.Contains(t, html, `href="`+link+`"`)
			if loc == "ja" {
				require.Contains(t, text, "配信停止")
				require.Contains(t, html, "配信を停止")
			} else {
				require.Contains(t, text, "Unsubscribe")
				require.Contains(t, html, ">Unsubscribe</a>")
			}
		}
	}
}

func TestRenderUsageThreshold(t *testing.T) {
	t.Parallel()
	data := sampleData()[KindUsageThreshold]
	s80, text80, _, err := Render(KindUsageThreshold, "en", data)
	require.NoError(t, err)
	require.Contains(t, s80, "80%")
	require.Contains(t, text80, "80,000 of 100,000")
	require.Contains(t, text80, "2026-12-01")

	data["Percent"] = float64(100) // as decoded from JSON
	s100, _, _, err := Render(KindUsageThreshold, "en", data)
	require.NoError(t, err)
	require.NotEqual(t, s80, s100)
	ja100, _, _, err := Render(KindUsageThreshold, "ja", data)
	require.NoError(t, err)
	require.Contains(t, ja100, "上限")

	data["Percent"] = "lots"
	_, _, _, err = Render(KindUsageThreshold, "en", data)
	require.Error(t, err)
}

// TestRenderGreetsOnlyByAHarmlessName: a display name that reads as a
// message of its own never reaches the greeting; a plain one does.
func TestRenderGreetsOnlyByAHarmlessName(t *testing.T) {
	t.Parallel()
	data := sampleData()[KindGenerationSucceeded]
	for name, want := range map[string]string{
		"Ann Example": "Hi Ann Example,",
		"Your account is locked - call +1-555-0100 or visit http://evil.example/login": "Hi there,",
		"Ann\nVisit evil.example": "Hi there,",
		"":                        "Hi there,",
	} {
		data["Name"] = name
		_, text, html, err := Render(KindGenerationSucceeded, "en", data)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(text, want), "%q: %q", name, text)
		require.Contains(t, html, ">"+want+"</p>", name)
	}
	data["Name"] = "山田 花子"
	_, text, _, err := Render(KindGenerationSucceeded, "ja", data)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(text, "山田 花子 様"), text)
}

func TestRenderDigest(t *testing.T) {
	t.Parallel()
	data := sampleData()[KindGenerationDigest]
	subject, text, _, err := Render(KindGenerationDigest, "en", data)
	require.NoError(t, err)
	require.Equal(t, "3 audio files are ready", subject)
	require.Contains(t, text, "3 more audio files are ready")
	data["Count"] = float64(1) // as decoded from JSON
	subject, _, _, err = Render(KindGenerationDigest, "en", data)
	require.NoError(t, err)
	require.Equal(t, "Your audio is ready", subject)
	ja, _, _, err := Render(KindGenerationDigest, "ja", map[string]any{"Count": 12, "URL": "https://koe.test/history"})
	require.NoError(t, err)
	require.Contains(t, ja, "12 件")
}

func TestRenderBroadcast(t *testing.T) {
	t.Parallel()
	data := sampleData()[KindBroadcast]
	subject, text, html, err := Render(KindBroadcast, "ja", data)
	require.NoError(t, err)
	require.Equal(t, "Koe news", subject)
	require.True(t, strings.HasPrefix(text, "New voices are here.\n\nTry them <today>.\n"))
	require.Contains(t, html, ">New voices are here.</p>")
	require.Contains(t, html, ">Try them &lt;today&gt;.</p>")
	require.Contains(t, html, "Koe アカウント", "the footer speaks the recipient's language")

	data["HTML"] = `<h1 style="color:red">Big news</h1>`
	_, _, html, err = Render(KindBroadcast, "en", data)
	require.NoError(t, err)
	require.Contains(t, html, `<h1 style="color:red">Big news</h1>`)
	require.NotContains(t, html, "Try them")
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	_, _, _, err := Render("nope", "en", nil)
	require.Error(t, err)
	_, _, _, err = Render(KindGenerationSucceeded, "en", map[string]any{"Voice": "Aria", "URL": "https://koe.test"})
	require.ErrorContains(t, err, `"Characters"`)
	_, _, _, err = Render(KindBroadcast, "en", map[string]any{"Subject": "Hi", "Text": ""})
	require.ErrorContains(t, err, `"Text"`)
}
