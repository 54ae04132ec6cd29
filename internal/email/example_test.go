package email_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/koe-voice/koe/internal/email"
)

// Render writes a message in the user's language; the sender delivers it.
func ExampleRender() {
	unsub := email.NewUnsubscriber([]byte("secret"), "https://koe.example.com")
	data := map[string]any{
		"Name": "山田 太郎", "Characters": 1200, "Voice": "Aria",
		"URL":         "https://koe.example.com/history",
		"Unsubscribe": unsub.URL("usr_1", email.PrefGenerationFinished),
	}
	subject, text, html, err := email.Render(email.KindGenerationSucceeded, "ja-JP", data)
	if err != nil {
		panic(err)
	}
	fmt.Println(subject)

	sender := email.NewLog(slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key != "subject" && a.Key != "to" {
				return slog.Attr{} // keep the example's output short
			}
			return a
		},
	})))
	defer sender.Close()
	err = sender.Send(context.Background(), email.Message{
		ID: "gen-42-succeeded", To: "taro@example.com", ToName: "山田 太郎",
		Subject: subject, Text: text, HTML: html, Unsubscribe: data["Unsubscribe"].(string),
	})
	fmt.Println(err)
	// Output:
	// 音声の生成が完了しました
	// to=taro@example.com subject=音声の生成が完了しました
	// <nil>
}

// An unsubscribe link carries who and what; Parse trusts only links it made.
func ExampleUnsubscriber() {
	u := email.NewUnsubscriber([]byte("secret"), "https://koe.example.com")
	link := u.URL("usr_1", email.PrefProductNews)
	fmt.Println(link)

	user, pref, err := u.Parse(link[len("https://koe.example.com/unsubscribe?t="):])
	fmt.Println(user, pref, err)
	_, _, err = u.Parse("dXNyXzJ8cHJvZHVjdE5ld3M.forged")
	fmt.Println(err)
	// Output:
	// https://koe.example.com/unsubscribe?t=dXNyXzF8cHJvZHVjdE5ld3M.0DtzKjlQZvwMEyQePnBkZg
	// usr_1 productNews <nil>
	// email: invalid unsubscribe token
}
