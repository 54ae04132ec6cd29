package signedurl

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignedLinks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := New([]byte("0123456789abcdef0123456789abcdef"), "http://koe.test", time.Hour)
	s.now = func() time.Time { return now }
	link := s.URL("/audio/gen_1.wav")
	require.True(t, strings.HasPrefix(link, "http://koe.test/audio/gen_1.wav?exp="))

	require.NoError(t, s.Verify(httptest.NewRequest("GET", link, nil)))

	tests := map[string]string{
		"other path":       strings.Replace(link, "gen_1", "gen_2", 1),
		"changed expiry":   strings.Replace(link, "exp=1", "exp=2", 1),
		"no signature":     link[:strings.Index(link, "&sig=")],
		"other secret":     New([]byte("another secret another secret 12"), "http://koe.test", time.Hour).URL("/audio/gen_1.wav"),
		"garbage":          "http://koe.test/audio/gen_1.wav?exp=x&sig=y",
		"without anything": "http://koe.test/audio/gen_1.wav",
	}
	for name, bad := range tests {
		require.ErrorIs(t, s.Verify(httptest.NewRequest("GET", bad, nil)), ErrInvalid, name)
	}

	now = now.Add(62 * time.Minute)
	require.ErrorIs(t, s.Verify(httptest.NewRequest("GET", link, nil)), ErrInvalid, "expired")
}
