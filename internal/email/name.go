package email

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameRunes is the longest display name Koe writes into an email.
const maxNameRunes = 40

// domainLike finds a dot between a word and two letters, as in a host name
// ("evil.example", "www.x.com"); an initial followed by a space ("J. Doe")
// is not one.
var domainLike = regexp.MustCompile(`[^\s.]\.\p{L}{2}`)

// SafeName returns a person's display name when it may stand in an email as
// is — in the greeting and as the display name of the To address — and ""
// otherwise, so the message greets them without one.
//
// A display name is free text that whoever signed up typed, possibly with
// somebody else's address: put in a greeting unchecked, "Your account is
// locked - call +1-555-0100 or visit http://evil.example" turns Koe's mail
// into theirs. So a name is used only when it is short (at most 40
// characters) and plain: letters, marks and digits (at most 4 of those, so
// no phone number), spaces, and the apostrophes, hyphens and dots of names;
// nothing that reads as a host name. Anything else — a link, "@", a line
// break, a control or bidi character, punctuation — drops the name.
func SafeName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxNameRunes || domainLike.MatchString(name) {
		return ""
	}
	digits := 0
	for _, r := range name {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLetter(r), unicode.IsMark(r), r == ' ', r == '\u3000', strings.ContainsRune("'’-.·・", r):
		default:
			return ""
		}
	}
	if digits > 4 {
		return ""
	}
	return name
}
