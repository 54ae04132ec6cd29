package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
)

// TestPOSTAnswersAsGqlgen: Koe's POST transport gives the status, content
// type and JSON that gqlgen's gives, for answers and for each kind of error.
func TestPOSTAnswersAsGqlgen(t *testing.T) {
	t.Parallel()
	serve := func(tr graphql.Transport) *httptest.Server {
		h := handler.New(&execSchema{})
		h.AddTransport(tr)
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s
	}
	gqlgen, koe := serve(transport.POST{}), serve(POST{})

	type answer struct {
		Status      int
		ContentType string
		Body        any
	}
	ask := func(url, accept, body string) answer {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		a := answer{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type")}
		require.NoError(t, json.Unmarshal(raw, &a.Body), "%s", raw)
		return a
	}
	for _, tt := range []struct{ name, accept, body string }{
		{"an answer", "", `{"query":"{ name }"}`},
		{"an answer to a browser", "text/html, */*", `{"query":"{ name }"}`},
		{"a parse error", "", `{"query":"{ name "}`},
		{"a validation error", "application/json", `{"query":"{ nope }"}`},
		{"bad variables", "", `{"query":"query($n: Int!) { name }","variables":{"n":"x"}}`},
		{"graphql-response+json", "application/graphql-response+json", `{"query":"{ nope }"}`},
	} {
		want := ask(gqlgen.URL, tt.accept, tt.body)
		require.Equal(t, want, ask(koe.URL, tt.accept, tt.body), tt.name)
	}
}

// TestBadBodyIsNotEchoed: a body that is not JSON is refused with 400 and a
// short error, in either response type, never quoted back (gqlgen's answer
// to 2 MB of junk is 2 MB long).
func TestBadBodyIsNotEchoed(t *testing.T) {
	t.Parallel()
	h := handler.New(&execSchema{})
	h.AddTransport(POST{})
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	junk := `{"query":"` + strings.Repeat("x", 2_000_000)
	for _, accept := range []string{"", "application/graphql-response+json"} {
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(junk))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, accept)
		require.Less(t, len(raw), 500, "%s: %.200s", accept, raw)
		require.NotContains(t, string(raw), "xxxx")
		var body struct{ Errors []struct{ Message string } }
		require.NoError(t, json.Unmarshal(raw, &body), "%s", raw)
		require.Contains(t, body.Errors[0].Message, "json request body could not be decoded")
		want := "application/json"
		if accept != "" {
			want = "application/graphql-response+json"
		}
		require.Equal(t, want, res.Header.Get("Content-Type"))
	}
}

func TestWriteResponseKeepsData(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	writeResponse(&b, &graphql.Response{Data: []byte(`{"text":"<b>&</b>"}`)})
	require.Equal(t, `{"data":{"text":"<b>&</b>"}}`, b.String(), "the data as rendered; HTML characters need no escaping in JSON")
}
