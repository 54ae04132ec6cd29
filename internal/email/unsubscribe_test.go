package email

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "/unsubscribe", u.Path)
	return u.Query().Get("t")
}

func TestUnsubscriberRoundTrip(t *testing.T) {
	t.Parallel()
	u := NewUnsubscriber([]byte("secret"), "https://koe.test/")
	for _, pref := range []string{PrefGenerationFinished, PrefUsageThreshold, PrefBilling, PrefProductNews} {
		for _, user := range []string{"usr_01JX", "a|b", "ユーザー"} {
			link := u.URL(user, pref)
			require.True(t, strings.HasPrefix(link, "https://koe.test/unsubscribe?t="), link)
			gotUser, gotPref, err := u.Parse(tokenOf(t, link))
			require.NoError(t, err)
			require.Equal(t, user, gotUser)
			require.Equal(t, pref, gotPref)
		}
	}
	require.Equal(t, u.URL("usr_1", PrefBilling), u.URL("usr_1", PrefBilling), "links are stable: no expiry, no nonce")
	require.Panics(t, func() { u.URL("usr_1", "emailOnEverything") })
	require.Panics(t, func() { u.URL("", PrefBilling) })
}

func TestUnsubscriberRejectsTampering(t *testing.T) {
	t.Parallel()
	u := NewUnsubscriber([]byte("secret"), "https://koe.test")
	token := tokenOf(t, u.URL("usr_1", PrefProductNews))
	payload, mac, _ := strings.Cut(token, ".")
	other := base64.RawURLEncoding.EncodeToString([]byte("usr_2|" + PrefProductNews))

	bad := map[string]string{
		"empty":              "",
		"no MAC":             payload,
		"other user":         other + "." + mac,
		"MAC cut short":      payload + "." + mac[:len(mac)-2],
		"MAC changed":        payload + "." + flipFirst(mac),
		"extra dot":          token + ".x",
		"other secret":       tokenOf(t, NewUnsubscriber([]byte("other"), "https://koe.test").URL("usr_1", PrefProductNews)),
		"padding added":      payload + "=." + mac,
		"unknown preference": signed(u, base64.RawURLEncoding.EncodeToString([]byte("usr_1|emailOnEverything"))),
		"no user":            signed(u, base64.RawURLEncoding.EncodeToString([]byte("|"+PrefBilling))),
		"no separator":       signed(u, base64.RawURLEncoding.EncodeToString([]byte("usr_1"))),
		"not base64":         signed(u, "usr_1|"+PrefBilling),
		"huge":               strings.Repeat("a", 2000),
	}
	for name, tok := range bad {
		_, _, err := u.Parse(tok)
		require.ErrorIs(t, err, ErrInvalidToken, name)
	}
}

// signed makes a correctly signed token of payload, to show Parse also
// checks what is inside.
func signed(u *Unsubscriber, payload string) string {
	return payload + "." + u.mac(payload)
}

func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestUnsubscriberNeedsSecret(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { NewUnsubscriber(nil, "https://koe.test") })
}
