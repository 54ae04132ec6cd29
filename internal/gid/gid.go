// Package gid makes Koe's opaque, globally unique ids: a short kind prefix and
// a time-ordered UUIDv7 in lower-case Crockford base32, e.g.
// "gen_06c3tq6w3n0bdt3x3d2yq1qg8r". The prefix lets node(id:) find the kind
// without a lookup; the time order keeps newest-first indexes compact.
package gid

import (
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// The kinds of object with an id of this form.
const (
	User       = "usr"
	APIKey     = "key"
	Generation = "gen"
	Plan       = "plan"
	CreditPack = "pack"
	Broadcast  = "bc"
	Notice     = "ntf"
	// LexiconEntry is one entry of a person's pronunciation lexicon.
	LexiconEntry = "lex"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

const encodedLen = 26 // 16 bytes in base32 without padding

// New returns a fresh id of the given kind.
func New(kind string) string {
	u := uuid.Must(uuid.NewV7())
	return kind + "_" + encoding.EncodeToString(u[:])
}

// Kind returns the kind prefix of id and whether id is well-formed.
func Kind(id string) (string, bool) {
	kind, rest, ok := strings.Cut(id, "_")
	if !ok || kind == "" || len(rest) != encodedLen {
		return "", false
	}
	if _, err := encoding.DecodeString(rest); err != nil {
		return "", false
	}
	return kind, true
}

// Is reports whether id is a well-formed id of kind.
func Is(id, kind string) bool {
	k, ok := Kind(id)
	return ok && k == kind
}
