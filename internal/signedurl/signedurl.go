// Package signedurl makes links that work without signing in, for a limited
// time: an expiry and an HMAC-SHA256 over the path and the expiry. Audio
// files are fetched this way by <audio> elements and curl alike.
package signedurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Signer signs and verifies links under one base URL.
type Signer struct {
	secret []byte
	base   string
	ttl    time.Duration
	now    func() time.Time
}

// New returns a signer for links under base (e.g. https://koe.example.com)
// that expire ttl after they are made.
func New(secret []byte, base string, ttl time.Duration) *Signer {
	return &Signer{secret: secret, base: base, ttl: ttl, now: time.Now}
}

func (s *Signer) mac(path string, exp int64) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// URL returns an absolute, signed link to path (which must be escaped already).
// Expiries are rounded up to the minute, so the same file keeps the same URL
// for a while and browsers can cache it.
func (s *Signer) URL(path string) string {
	exp := s.now().Add(s.ttl).Truncate(time.Minute).Add(time.Minute).Unix()
	return s.base + path + "?" + url.Values{"exp": {strconv.FormatInt(exp, 10)}, "sig": {s.mac(path, exp)}}.Encode()
}

// ErrInvalid is returned for links that were not made by this signer, were
// changed, or have expired.
var ErrInvalid = errors.New("the link is invalid or has expired")

// Verify checks the signature and expiry of a request for a signed link.
func (s *Signer) Verify(r *http.Request) error {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || s.now().Unix() > exp {
		return ErrInvalid
	}
	if !hmac.Equal([]byte(q.Get("sig")), []byte(s.mac(r.URL.EscapedPath(), exp))) {
		return ErrInvalid
	}
	return nil
}
