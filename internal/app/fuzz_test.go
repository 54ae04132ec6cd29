package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// codes are the extensions.code values api.graphql allows (plus
// PERSISTED_QUERY_NOT_FOUND, which persisted-query clients rely on).
var codes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true, "QUOTA_EXCEEDED": true,
	"RATE_LIMITED": true, "CONFLICT": true, "BILLING_NOT_CONFIGURED": true, "COMPLEXITY_LIMIT_EXCEEDED": true,
	"INTERNAL_SERVER_ERROR": true, "NOT_IMPLEMENTED": true, "PERSISTED_QUERY_NOT_FOUND": true,
}

// FuzzGraphQL sends arbitrary bodies to /query: the server never panics,
// never answers 5xx, always answers JSON, and every error has a known code
// and never an internal one. `make test` runs it for a bounded time.
func FuzzGraphQL(f *testing.F) {
	srv := apptest.Boot(f, storetest.SQLite, map[string]string{"KOE_LOG_LEVEL": "error"})
	for _, seed := range []string{
		`{"query":"{ voices(first: 3) { totalCount edges { node { id name } } } }"}`,
		`{"query":"query($id: ID!) { generation(id: $id) { id status } }","variables":{"id":"gen_x"}}`,
		`{"query":"mutation($i: CreateGenerationInput!) { createGeneration(input: $i) { id } }","variables":{"i":{"voiceId":"espeak-ng:en-us","text":"","speed":9}}}`,
		`{"query":"{ node(id: \"espeak-ng:en-us\") { id ... on Voice { name } } }"}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`,
		`{"query":"{ a: plans { code } b: plans { name } }","operationName":"x"}`,
		`[{"query":"{ plans { code } }"}]`,
		`{"query":"{ me { id } } fragment f on User { ...f }"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apptest.AdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%d for %q: %s", resp.StatusCode, body, b)
		}
		var r struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("not JSON (%d) for %q: %s", resp.StatusCode, body, b)
		}
		for _, e := range r.Errors {
			code, _ := e.Extensions["code"].(string)
			if !codes[code] || code == "INTERNAL_SERVER_ERROR" {
				t.Fatalf("error code %q for %q: %s", code, body, b)
			}
		}
	})
}
