package email

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	kept := []string{"Ann", "Ann Example", "  Ann  ", "Jean-Luc Picard", "O'Brien", "J. R. R. Tolkien", "Zoë", "山田 花子", "やまだ　はなこ",
		"Anna 2nd", "R2D2", "http", "Ngũgĩ wa Thiong'o", strings.Repeat("a", 40)}
	for _, name := range kept {
		require.Equal(t, strings.TrimSpace(name), SafeName(name), name)
	}
	dropped := []string{
		"",
		"   ",
		"Your account is locked - call +1-555-0100 or visit http://evil.example/login",
		"call 555 0100",        // a phone number, however written
		"55501",                // five digits
		"evil.example",         // a host name
		"visit www.evil.com",   // a host name
		"Ann\nBcc: x@evil.com", // a line break
		"Ann\r\nX-Injected: 1",
		"ann@example.com",        // an address
		"Ann <ann@evil.example>", // angle brackets
		"Click here: evil",       // a colon
		"Ann\u202eevil",          // a bidi override
		"Ann\u2028Example",       // a line separator
		"Ann\x00",                // a control character
		strings.Repeat("a", 41),  // too long
		"Free money!",            // punctuation names do not have
		"Ann (support team)",     // parentheses
		"ＵＲＬ：ｅｖｉｌ．ｅｘａｍｐｌｅ", // full-width punctuation
	}
	for _, name := range dropped {
		require.Empty(t, SafeName(name), "%q", name)
	}
}
