package notification

import (
	"fmt"
	"time"

	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/events"
)

// number is a JSON number from an event payload as an int.
func number(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	}
	return 0
}

// day formats an RFC 3339 time from a payload as a date.
func day(v any) string {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(time.DateOnly)
	}
	return s
}

// inApp is the title and body of a notification in the person's language.
func inApp(kind, locale string, p map[string]any) (title, body string) {
	ja := email.Language(locale) == "ja"
	switch kind {
	case events.KindGenerationSucceeded:
		if ja {
			return "音声ができました", fmt.Sprintf("%d 文字の音声を再生・ダウンロードできます。", number(p["characters"]))
		}
		return "Your speech is ready", fmt.Sprintf("%d characters are ready to play and download.", number(p["characters"]))
	case events.KindGenerationFailed:
		if ja {
			return "音声を作れませんでした", fmt.Sprint(p["reason"])
		}
		return "Your speech could not be made", fmt.Sprint(p["reason"])
	case events.KindUsageThreshold:
		if ja {
			return fmt.Sprintf("今期の文字数の %d%% を使いました", number(p["percent"])),
				fmt.Sprintf("%d / %d 文字。%s にリセットされます。", number(p["used"]), number(p["quota"]), day(p["periodEnd"]))
		}
		return fmt.Sprintf("You have used %d%% of this period's characters", number(p["percent"])),
			fmt.Sprintf("%d of %d characters. The period resets on %s.", number(p["used"]), number(p["quota"]), day(p["periodEnd"]))
	case events.KindPaymentFailed:
		if ja {
			return "お支払いに失敗しました", "お支払い方法をご確認ください。"
		}
		return "A payment failed", "Please check your payment method."
	case events.KindPlanChanged:
		if ja {
			return "プランが変わりました", fmt.Sprintf("%v から %v になりました。", p["from"], p["to"])
		}
		return "Your plan changed", fmt.Sprintf("From %v to %v.", p["from"], p["to"])
	}
	return kind, ""
}

// templateData maps an event's payload to the fields of its email template.
func templateData(kind string, d map[string]any) map[string]any {
	switch kind {
	case events.KindGenerationSucceeded:
		d["Characters"], d["Voice"] = number(d["characters"]), d["voiceId"]
	case events.KindGenerationFailed:
		d["Reason"] = d["reason"]
	case events.KindUsageThreshold:
		d["Percent"], d["Used"], d["Quota"], d["PeriodEnd"] = number(d["percent"]), number(d["used"]), number(d["quota"]), day(d["periodEnd"])
	case events.KindPlanChanged:
		d["From"], d["To"] = d["from"], d["to"]
	}
	return d
}
