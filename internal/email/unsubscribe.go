package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// The notification preferences a link can turn off.
const (
	PrefGenerationFinished = "emailOnGenerationFinished"
	PrefUsageThreshold     = "emailOnUsageThreshold"
	PrefBilling            = "emailOnBilling"
	PrefProductNews        = "productNews"
)

// ErrInvalidToken is returned by Parse for any token it did not make.
var ErrInvalidToken = errors.New("email: invalid unsubscribe token")

// unsubscribeMACLen is 128 bits of HMAC-SHA256: far beyond guessing, and it
// keeps the link short enough for mail clients that wrap long lines.
const unsubscribeMACLen = 16

// unsubscribeDomain separates these MACs from any other made with the same
// secret (such as signed audio URLs).
const unsubscribeDomain = "koe-unsubscribe\x00"

// Unsubscriber makes and checks signed unsubscribe links that work without signing in.
//
// Tokens never expire: an unsubscribe link must keep working as long as the
// email that carries it is in someone's inbox. Rotating the secret
// invalidates every link already sent.
type Unsubscriber struct {
	secret []byte
	base   string
}

// NewUnsubscriber returns an Unsubscriber for links under baseURL (e.g.
// https://koe.example.com). It panics on an empty secret, with which anyone
// could forge links.
func NewUnsubscriber(secret []byte, baseURL string) *Unsubscriber {
	if len(secret) == 0 {
		panic("email: NewUnsubscriber needs a secret")
	}
	return &Unsubscriber{secret: secret, base: strings.TrimRight(baseURL, "/")}
}

// URL returns baseURL + "/unsubscribe?t=<token>", the token being
// base64url(userID "|" preference) "." base64url(MAC). It panics when
// preference is not one of the Pref constants or userID is empty, both
// programming errors that would otherwise mail a link that cannot work.
func (u *Unsubscriber) URL(userID, preference string) string {
	if userID == "" || !knownPreference(preference) {
		panic("email: unsubscribe URL for user " + userID + " and unknown preference " + preference)
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte(userID + "|" + preference))
	return u.base + "/unsubscribe?t=" + url.QueryEscape(payload+"."+u.mac(payload))
}

// Parse checks token and returns what it was made for, or ErrInvalidToken.
func (u *Unsubscriber) Parse(token string) (userID, preference string, err error) {
	if len(token) > 1024 {
		return "", "", ErrInvalidToken
	}
	payload, mac, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(u.mac(payload))) {
		return "", "", ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", ErrInvalidToken
	}
	// The preference never holds "|"; a user ID might.
	i := strings.LastIndexByte(string(raw), '|')
	if i <= 0 || !knownPreference(string(raw[i+1:])) {
		return "", "", ErrInvalidToken
	}
	return string(raw[:i]), string(raw[i+1:]), nil
}

func (u *Unsubscriber) mac(payload string) string {
	h := hmac.New(sha256.New, u.secret)
	h.Write([]byte(unsubscribeDomain))
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:unsubscribeMACLen])
}

func knownPreference(p string) bool {
	switch p {
	case PrefGenerationFinished, PrefUsageThreshold, PrefBilling, PrefProductNews:
		return true
	}
	return false
}
