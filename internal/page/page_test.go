package page_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/page"
)

func ptr[T any](v T) *T { return &v }

// requireInvalid checks err is BAD_USER_INPUT naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperror.As(err)
	require.True(t, ok, "an error a client may see: %v", err)
	require.Equal(t, apperror.BadUserInput, e.Code)
	require.Equal(t, field, e.Field)
}

func TestParseFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first *int
		want  int
	}{
		{"default", nil, 20},
		{"none", ptr(0), 0},
		{"one", ptr(1), 1},
		{"most", ptr(page.MaxFirst), page.MaxFirst},
	}
	for _, tt := range tests {
		r, err := page.Parse(tt.first, nil, 20, 2)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, r.First, tt.name)
		require.Nil(t, r.After, "%s: the first page", tt.name)
		require.Equal(t, int64(tt.want+1), r.Limit(), "%s: one more row tells whether a next page exists", tt.name)
	}

	for _, first := range []int{-1, page.MaxFirst + 1, 1 << 30} {
		_, err := page.Parse(ptr(first), nil, 20, 2)
		requireInvalid(t, err, "first")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	keys := [][]string{
		{"en-US", "English (America)", "espeak-ng:en-us"},
		{"", "", ""},
		{`quote " and \ backslash`, "日本語", "a,b"},
	}
	for _, key := range keys {
		c := page.Cursor(key...)
		require.NotContains(t, c, "=", "cursors need no escaping in URLs")
		r, err := page.Parse(ptr(5), &c, 20, len(key))
		require.NoError(t, err)
		require.Equal(t, key, r.After)
		require.Equal(t, 5, r.First)
	}

	r, err := page.Parse(nil, ptr(""), 20, 3)
	require.NoError(t, err)
	require.Nil(t, r.After, "an empty after is the first page")
}

func TestParseRejectsGarbageCursors(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	tests := map[string]string{
		"not base64":       "not a cursor!",
		"padded base64":    base64.URLEncoding.EncodeToString([]byte(`["ab","c"]`)),
		"base64 of text":   enc([]byte("hello")),
		"a JSON object":    enc([]byte(`{"a":"b"}`)),
		"numbers":          enc([]byte(`[1,2]`)),
		"too short a key":  page.Cursor("a"),
		"too long a key":   page.Cursor("a", "b", "c"),
		"null":             enc([]byte(`null`)),
		"truncated cursor": page.Cursor("2026-11-27T10:00:00Z", "usr_1")[:10],
	}
	for name, after := range tests {
		_, err := page.Parse(nil, &after, 20, 2)
		require.Error(t, err, name)
		requireInvalid(t, err, "after")
	}
}

func TestTrim(t *testing.T) {
	t.Parallel()
	r, err := page.Parse(ptr(2), nil, 20, 1)
	require.NoError(t, err)

	p := page.Trim([]string{"a", "b", "c"}, r, 10)
	require.Equal(t, []string{"a", "b"}, p.Items)
	require.True(t, p.HasNextPage)
	require.Equal(t, 10, p.TotalCount)

	p = page.Trim([]string{"a", "b"}, r, 2)
	require.Equal(t, []string{"a", "b"}, p.Items)
	require.False(t, p.HasNextPage, "exactly a page left: nothing after it")

	p = page.Trim([]string(nil), r, 0)
	require.Empty(t, p.Items)
	require.False(t, p.HasNextPage)
}

func TestTimeKeyRoundTrip(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*60*60)
	for _, at := range []time.Time{
		time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC),
		time.Date(2026, 11, 27, 19, 0, 0, 1, tokyo),
	} {
		c := page.Cursor(page.TimeKey(at), "usr_x")
		r, err := page.Parse(nil, &c, 20, 2)
		require.NoError(t, err)
		got, err := r.AfterTime(0)
		require.NoError(t, err)
		require.True(t, at.Equal(got), "%s != %s", at, got)
		require.Equal(t, time.UTC, got.Location(), "keys are UTC")
	}

	c := page.Cursor("yesterday", "usr_x")
	r, err := page.Parse(nil, &c, 20, 2)
	require.NoError(t, err, "the shape is right")
	_, err = r.AfterTime(0)
	requireInvalid(t, err, "after")
}
