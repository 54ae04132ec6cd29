package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const upsertLexiconEntry = `mutation($input: LexiconEntryInput!) {
  upsertLexiconEntry(input: $input) { id grapheme alias language createdAt }
}`

const lexiconQuery = `query($first: Int, $after: String) {
  lexicon(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id grapheme alias language } } }
}`

type lexiconEntry struct {
	ID        string  `json:"id"`
	Grapheme  string  `json:"grapheme"`
	Alias     string  `json:"alias"`
	Language  *string `json:"language"`
	CreatedAt string  `json:"createdAt"`
}

func upsertEntry(t *testing.T, c *apptest.Client, input map[string]any) lexiconEntry {
	t.Helper()
	var out struct{ UpsertLexiconEntry lexiconEntry }
	c.Must(upsertLexiconEntry, map[string]any{"input": input}, &out)
	return out.UpsertLexiconEntry
}

// roomyUser adds a person on a plan of 1,000 requests a minute: these tests
// make more than the free plan's 60.
func roomyUser(t *testing.T, srv *apptest.Server, email string) (*apptest.Client, string) {
	t.Helper()
	srv.Client(apptest.AdminKey).Must(`mutation { upsertPlan(input: {code: "roomy", name: "Roomy", monthlyPriceCents: 100, currency: "usd",
		includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000, requestsPerMinute: 1000}) { code } }`, nil, nil)
	userID, key := srv.NewUser(auth.RoleUser, email)
	_, err := srv.DB().NewRaw("UPDATE users SET plan_code = 'roomy' WHERE id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
	return srv.Client(key), key
}

// lexiconOf lists a person's whole lexicon through the API, page by page,
// as "grapheme|language=alias".
func lexiconOf(t *testing.T, c *apptest.Client) []string {
	t.Helper()
	var out []string
	vars := map[string]any{"first": 100}
	for {
		var r struct {
			Lexicon struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct{ Node lexiconEntry }
			}
		}
		c.Must(lexiconQuery, vars, &r)
		for _, e := range r.Lexicon.Edges {
			lang := ""
			if e.Node.Language != nil {
				lang = *e.Node.Language
			}
			out = append(out, e.Node.Grapheme+"|"+lang+"="+e.Node.Alias)
		}
		if !r.Lexicon.PageInfo.HasNextPage {
			require.Len(t, out, r.Lexicon.TotalCount)
			return out
		}
		vars["after"] = *r.Lexicon.PageInfo.EndCursor
	}
}

// lexiconRows counts every stored entry, whoever's: what bad input must
// not change.
func lexiconRows(t *testing.T, srv *apptest.Server) int {
	t.Helper()
	var n int
	require.NoError(t, srv.DB().NewRaw("SELECT count(*) FROM lexicon_entries").Scan(context.Background(), &n))
	return n
}

// TestLexiconAPI: a person adds, changes, lists and deletes their
// pronunciation entries; bad input names its field and changes nothing;
// another person's entries are not found, on both databases.
func TestLexiconAPI(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			alice, aliceKey := roomyUser(t, srv, "alice@example.com")
			bob, _ := roomyUser(t, srv, "bob@example.com")

			koe := upsertEntry(t, alice, map[string]any{"grapheme": "Koe", "alias": "koh-eh"})
			require.True(t, strings.HasPrefix(koe.ID, "lex_"), koe.ID)
			require.Nil(t, koe.Language, "no language: every language")
			require.NotEmpty(t, koe.CreatedAt)
			again := upsertEntry(t, alice, map[string]any{"grapheme": "Koe", "alias": "ko-e", "language": nil})
			require.Equal(t, koe.ID, again.ID, "the same grapheme with no language again changes the entry")
			require.Equal(t, "ko-e", again.Alias)
			empty := upsertEntry(t, alice, map[string]any{"grapheme": "Koe", "alias": "koe!", "language": ""})
			require.Equal(t, koe.ID, empty.ID, "an empty language is no language")
			en := upsertEntry(t, alice, map[string]any{"grapheme": "Koe", "alias": "koh-ay", "language": "en-us"})
			require.NotEqual(t, koe.ID, en.ID, "another language, another entry")
			require.Equal(t, "en-US", *en.Language, "the tag in canonical form")
			upsertEntry(t, alice, map[string]any{"grapheme": "東京", "alias": "トーキョー", "language": "ja"})
			require.ElementsMatch(t, []string{"Koe|=koe!", "Koe|en-US=koh-ay", "東京|ja=トーキョー"}, lexiconOf(t, alice))
			var page struct {
				Lexicon struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct{ Node lexiconEntry }
				}
			}
			alice.Must(lexiconQuery, map[string]any{"first": 2}, &page)
			require.Equal(t, 3, page.Lexicon.TotalCount)
			require.True(t, page.Lexicon.PageInfo.HasNextPage)
			require.Equal(t, "東京", page.Lexicon.Edges[0].Node.Grapheme, "newest first")
			alice.Must(lexiconQuery, map[string]any{"first": 2, "after": page.Lexicon.PageInfo.EndCursor}, &page)
			require.False(t, page.Lexicon.PageInfo.HasNextPage)
			require.Equal(t, []string{koe.ID}, []string{page.Lexicon.Edges[0].Node.ID}, "the oldest last")

			// node(id:) answers the entry to its owner only.
			var node struct {
				Node *struct {
					Typename string `json:"__typename"`
					ID       string `json:"id"`
					Alias    string `json:"alias"`
				}
			}
			nodeQuery := `query($id: ID!) { node(id: $id) { __typename id ... on LexiconEntry { alias } } }`
			alice.Must(nodeQuery, map[string]any{"id": en.ID}, &node)
			require.NotNil(t, node.Node)
			require.Equal(t, "LexiconEntry", node.Node.Typename)
			require.Equal(t, "koh-ay", node.Node.Alias)
			bob.Must(nodeQuery, map[string]any{"id": en.ID}, &node)
			require.Nil(t, node.Node, "another person's entry is not found")

			// Bob's lexicon is his own: his entry of the same grapheme is
			// another entry, and alice's cannot be deleted by him.
			bobs := upsertEntry(t, bob, map[string]any{"grapheme": "Koe", "alias": "bob says"})
			require.NotEqual(t, koe.ID, bobs.ID)
			require.Equal(t, []string{"Koe|=bob says"}, lexiconOf(t, bob))
			r := bob.Do(`mutation($id: ID!) { deleteLexiconEntry(id: $id) }`, map[string]any{"id": en.ID})
			require.Len(t, r.Errors, 1)
			require.Equal(t, "NOT_FOUND", r.Errors[0].Code())
			require.Len(t, lexiconOf(t, alice), 3, "nothing deleted")

			var deleted struct{ DeleteLexiconEntry bool }
			alice.Must(`mutation($id: ID!) { deleteLexiconEntry(id: $id) }`, map[string]any{"id": en.ID}, &deleted)
			require.True(t, deleted.DeleteLexiconEntry)
			alice.Must(nodeQuery, map[string]any{"id": en.ID}, &node)
			require.Nil(t, node.Node)
			r = alice.Do(`mutation($id: ID!) { deleteLexiconEntry(id: $id) }`, map[string]any{"id": en.ID})
			require.Equal(t, "NOT_FOUND", r.Errors[0].Code(), "deleted once")
			require.ElementsMatch(t, []string{"Koe|=koe!", "東京|ja=トーキョー"}, lexiconOf(t, alice))

			// Signed out, there is no lexicon.
			r = srv.Client("").Do(lexiconQuery, nil)
			require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())
			r = srv.Client("").Do(upsertLexiconEntry, map[string]any{"input": map[string]any{"grapheme": "a", "alias": "b"}})
			require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())

			with := func(k string, v any) map[string]any {
				in := map[string]any{"grapheme": "AWS", "alias": "Amazon Web Services", "language": "en"}
				in[k] = v
				return map[string]any{"input": in}
			}
			for _, tc := range []struct {
				name, query string
				vars        map[string]any
				field       string
			}{
				{"empty grapheme", upsertLexiconEntry, with("grapheme", ""), "input.grapheme"},
				{"blank grapheme", upsertLexiconEntry, with("grapheme", " \u3000 "), "input.grapheme"},
				{"grapheme over 100 characters", upsertLexiconEntry, with("grapheme", strings.Repeat("語", 101)), "input.grapheme"},
				{"NUL in the grapheme", upsertLexiconEntry, with("grapheme", "A\x00WS"), "input.grapheme"},
				{"empty alias", upsertLexiconEntry, with("alias", ""), "input.alias"},
				{"alias over 500 characters", upsertLexiconEntry, with("alias", strings.Repeat("a", 501)), "input.alias"},
				{"NUL in the alias", upsertLexiconEntry, with("alias", "Amazon\x00"), "input.alias"},
				{"not a language tag", upsertLexiconEntry, with("language", "English"), "input.language"},
				{"a tag with a space", upsertLexiconEntry, with("language", "en US"), "input.language"},
				{"malformed id to delete", `mutation { deleteLexiconEntry(id: "gen_nope") }`, nil, "id"},
				{"lexicon over 100 a page", `query { lexicon(first: 101) { totalCount } }`, nil, "first"},
				{"lexicon cursor of nothing", `query { lexicon(after: "nope") { totalCount } }`, nil, "after"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := lexiconRows(t, srv)
					r := alice.Do(tc.query, tc.vars)
					require.Len(t, r.Errors, 1, "%s", r.Data)
					require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), "%+v", r.Errors[0])
					require.Equal(t, tc.field, r.Errors[0].Field(), "%+v", r.Errors[0])
					require.Equal(t, before, lexiconRows(t, srv), "nothing stored")
				})
			}
			r = alice.Do(upsertLexiconEntry, with("language", "en US"), "Accept-Language", "ja")
			require.Equal(t, "en や ja-JP のような BCP 47 の言語タグを指定してください", r.Errors[0].Message, "the message in the app's language")

			// A full lexicon takes changes, not new entries.
			var lexemes strings.Builder
			for i := range 998 {
				fmt.Fprintf(&lexemes, "<lexeme><grapheme>w%d</grapheme><alias>x</alias></lexeme>", i)
			}
			resp, body := lexiconHTTP(t, srv, http.MethodPut, aliceKey, "", plsOf("mul", lexemes.String()))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			require.Len(t, lexiconOf(t, alice), 1000)
			before := lexiconRows(t, srv)
			r = alice.Do(upsertLexiconEntry, with("grapheme", "one more"))
			require.Len(t, r.Errors, 1)
			require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code())
			require.Equal(t, "input", r.Errors[0].Field())
			require.Contains(t, r.Errors[0].Message, "1000")
			require.Equal(t, before, lexiconRows(t, srv))
			require.Equal(t, "changed", upsertEntry(t, alice, map[string]any{"grapheme": "Koe", "alias": "changed"}).Alias)
			upsertEntry(t, bob, map[string]any{"grapheme": "bob's room", "alias": "alice's full lexicon is not his"})
		})
	}
}

// plsOf is a PLS 1.0 document of language lang holding lexemes.
func plsOf(lang, lexemes string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="` + lang + `">` + lexemes + `</lexicon>`
}

// lexiconHTTP calls /v1/lexicon with key ("" for none); query is the
// query string, body the document to PUT.
func lexiconHTTP(t *testing.T, srv *apptest.Server, method, key, query, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	u := srv.URL + "/v1/lexicon"
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if method == http.MethodPut {
		req.Header.Set("Content-Type", "application/pls+xml")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// restError decodes the first error of a REST answer.
func restError(t *testing.T, body []byte) apptest.Error {
	t.Helper()
	var r struct{ Errors []apptest.Error }
	require.NoError(t, json.Unmarshal(body, &r), "%s", body)
	require.NotEmpty(t, r.Errors, "%s", body)
	return r.Errors[0]
}

// TestLexiconPLS: GET /v1/lexicon exports the caller's lexicon as PLS and
// PUT imports one, authenticated and rate-limited as /query is; a bad
// document is answered 400 naming where, and changes nothing.
func TestLexiconPLS(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			alice, aliceKey := roomyUser(t, srv, "alice@example.com")
			bob, bobKey := roomyUser(t, srv, "bob@example.com")
			for _, in := range []map[string]any{
				{"grapheme": "Koe", "alias": "koh-eh"},
				{"grapheme": "AWS", "alias": "Amazon Web Services", "language": "en"},
				{"grapheme": "東京", "alias": "トーキョー", "language": "ja"},
				{"grapheme": "R&D", "alias": `research <and> "development"`, "language": "en-GB"},
			} {
				upsertEntry(t, alice, in)
			}

			// Signed out: 401, as /query answers a bad credential.
			resp, body := lexiconHTTP(t, srv, http.MethodGet, "", "", "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Equal(t, "UNAUTHENTICATED", restError(t, body).Code())
			resp, _ = lexiconHTTP(t, srv, http.MethodGet, "koe_not_a_key", "", "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

			resp, exported := lexiconHTTP(t, srv, http.MethodGet, aliceKey, "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", exported)
			require.Equal(t, "application/pls+xml; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, `attachment; filename="koe-lexicon.pls"`, resp.Header.Get("Content-Disposition"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			require.NotEmpty(t, resp.Header.Get("RateLimit-Remaining"), "charged to the caller's rate")
			require.Contains(t, string(exported), `xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"`)
			require.Contains(t, string(exported), `xml:lang="mul"`)

			// Bob imports alice's export and has the same entries.
			resp, body = lexiconHTTP(t, srv, http.MethodPut, bobKey, "", string(exported))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			require.JSONEq(t, `{"entries": 4, "skippedLexemes": [], "total": 4}`, string(body))
			require.ElementsMatch(t, lexiconOf(t, alice), lexiconOf(t, bob))

			// One language alone, named on the root.
			resp, ja := lexiconHTTP(t, srv, http.MethodGet, aliceKey, "language=ja", "")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, `attachment; filename="koe-lexicon-ja.pls"`, resp.Header.Get("Content-Disposition"))
			require.Contains(t, string(ja), `xml:lang="ja"`)
			require.Contains(t, string(ja), "トーキョー")
			require.NotContains(t, string(ja), "AWS")
			resp, body = lexiconHTTP(t, srv, http.MethodGet, aliceKey, "language=not+a+tag", "")
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "language", restError(t, body).Field())

			// Bad documents: 400 naming the place, nothing changed.
			billionLaughs := `<?xml version="1.0"?><!DOCTYPE lexicon [<!ENTITY a "aaaaaaaaaa">` +
				`<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">` +
				`<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>` +
				`<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en">` +
				`<lexeme><grapheme>&e;</grapheme><alias>x</alias></lexeme></lexicon>`
			for _, tc := range []struct {
				name, doc, field string
			}{
				{"not XML", "hello", "/"},
				{"an empty alias in the second lexeme", plsOf("en", `<lexeme><grapheme>ok</grapheme><alias>fine</alias></lexeme>
					<lexeme><grapheme>bad</grapheme><alias> </alias></lexeme>`), "/lexicon/lexeme[2]/alias[1]"},
				{"a bad language on a lexeme", plsOf("mul", `<lexeme xml:lang="xx yy"><grapheme>a</grapheme><alias>b</alias></lexeme>`), "/lexicon/lexeme[1]/@xml:lang"},
				{"a grapheme over 100 characters", plsOf("en", `<lexeme><grapheme>`+strings.Repeat("g", 101)+`</grapheme><alias>b</alias></lexeme>`), "/lexicon/lexeme[1]/grapheme[1]"},
				{"billion laughs", billionLaughs, "/"},
				{"unclosed", plsOf("en", `<lexeme><grapheme>a</grapheme>`), "/lexicon"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := lexiconRows(t, srv)
					resp, body := lexiconHTTP(t, srv, http.MethodPut, bobKey, "", tc.doc)
					require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
					e := restError(t, body)
					require.Equal(t, "BAD_USER_INPUT", e.Code())
					require.Equal(t, tc.field, e.Field(), "%s", body)
					require.Equal(t, before, lexiconRows(t, srv), "nothing changed")
				})
			}
			resp, body = lexiconHTTP(t, srv, http.MethodPut, bobKey, "", plsOf("en", `<lexeme><grapheme>a</grapheme></lexeme>`), "Accept-Language", "ja")
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "alias も phoneme もありません", restError(t, body).Message)

			// Lexemes that only give phonemes are skipped and named; the
			// rest is merged into what bob has.
			resp, body = lexiconHTTP(t, srv, http.MethodPut, bobKey, "", plsOf("en", `
				<lexeme><grapheme>tomato</grapheme><phoneme>təˈmeɪtoʊ</phoneme></lexeme>
				<lexeme><grapheme>Koe</grapheme><alias>bob's Koe</alias></lexeme>`))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			require.JSONEq(t, `{"entries": 1, "skippedLexemes": [1], "total": 5}`, string(body))
			require.Contains(t, lexiconOf(t, bob), "Koe|en=bob's Koe")
			require.Contains(t, lexiconOf(t, bob), "Koe|=koh-eh", "merged: the entry of no language stays")

			// ?replace=true: the document becomes the whole lexicon.
			resp, body = lexiconHTTP(t, srv, http.MethodPut, bobKey, "replace=true", plsOf("en", `<lexeme><grapheme>only</grapheme><alias>this</alias></lexeme>`))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			require.Equal(t, []string{"only|en=this"}, lexiconOf(t, bob))
			resp, body = lexiconHTTP(t, srv, http.MethodPut, bobKey, "replace=maybe", plsOf("en", ""))
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "replace", restError(t, body).Field())
			require.Equal(t, []string{"only|en=this"}, lexiconOf(t, bob))

			resp, _ = lexiconHTTP(t, srv, http.MethodPost, bobKey, "", "")
			require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
			require.Contains(t, resp.Header.Get("Allow"), "PUT")
		})
	}
}

// TestLexiconLimits: /v1/lexicon takes from the same rate as /query, and
// its body is bounded as every request's is.
func TestLexiconLimits(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_MAX_BODY_BYTES": "65536"})
	admin := srv.Client(apptest.AdminKey)
	admin.Must(`mutation { upsertPlan(input: {code: "slow", name: "Slow", monthlyPriceCents: 100, currency: "usd",
		includedCharacters: 1000, maxConcurrentGenerations: 1, maxCharactersPerGeneration: 1000, requestsPerMinute: 3}) { code } }`, nil, nil)
	userID, key := srv.NewUser(auth.RoleUser, "slow@example.com")
	_, err := srv.DB().NewRaw("UPDATE users SET plan_code = 'slow' WHERE id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
	c := srv.Client(key)
	c.Must(`{ me { id } }`, nil, nil)
	resp, _ := lexiconHTTP(t, srv, http.MethodGet, key, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	c.Must(`{ me { id } }`, nil, nil)
	resp, body := lexiconHTTP(t, srv, http.MethodPut, key, "", plsOf("en", ""))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the fourth request of the minute, whichever endpoint")
	require.Equal(t, "RATE_LIMITED", restError(t, body).Code())
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	big := plsOf("en", `<metadata>`+strings.Repeat("x", 70000)+`</metadata>`)
	resp, body = lexiconHTTP(t, srv, http.MethodPut, apptest.AdminKey, "", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s", body)
	require.Zero(t, lexiconRows(t, srv))
}

// TestLexiconSpoken: a person's entries change what every generation of
// theirs says, on espeak-ng: an alias much longer than its word makes
// audio much longer. The entries are stored with the generation: a retry
// after the lexicon changed says what the first attempt would have said,
// to the millisecond. An entry of another language does not apply.
func TestLexiconSpoken(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			admin := srv.Client(apptest.AdminKey)
			setCap := func(seconds int) {
				admin.Must(`mutation($n: Int) { upsertPlan(input: {code: "tiny", name: "Tiny", monthlyPriceCents: 100, currency: "usd",
					includedCharacters: 100000, maxConcurrentGenerations: 10, maxCharactersPerGeneration: 10000,
					maxAudioSecondsPerGeneration: $n}) { code } }`, map[string]any{"n": seconds}, nil)
			}
			setCap(3)
			userID, key := srv.NewUser(auth.RoleUser, "speaker@example.com")
			_, err := srv.DB().NewRaw("UPDATE users SET plan_code = 'tiny' WHERE id = ?", userID).Exec(context.Background())
			require.NoError(t, err)
			c := srv.Client(key)
			speak := func() gen {
				g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Koe.", "format": "WAV"})
				evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
				return evs[len(evs)-1].Generation
			}
			finished := func(id string) gen {
				evs := events(t, follow(t, c, apptest.TransportWS, id), time.Minute)
				return evs[len(evs)-1].Generation
			}

			long := strings.TrimSpace(strings.Repeat("a voice platform that turns text into speech, ", 6))
			en := upsertEntry(t, c, map[string]any{"grapheme": "koe", "alias": long, "language": "en"})
			upsertEntry(t, c, map[string]any{"grapheme": "Koe", "alias": long, "language": "ja"})

			// Under a 3-second cap the long alias cannot be said: the first
			// attempt fails.
			first := speak()
			require.Equal(t, "FAILED", first.Status)
			require.Equal(t, "OUTPUT_TOO_LONG", first.Error.Code)

			setCap(7200)
			withEntry := speak()
			require.Equal(t, "SUCCEEDED", withEntry.Status, "%+v", withEntry.Error)

			// The en entry goes; the ja one stays and does not apply to an
			// en-US voice.
			var deleted struct{ DeleteLexiconEntry bool }
			c.Must(`mutation($id: ID!) { deleteLexiconEntry(id: $id) }`, map[string]any{"id": en.ID}, &deleted)
			without := speak()
			require.Equal(t, "SUCCEEDED", without.Status, "%+v", without.Error)
			require.Greater(t, withEntry.Audio.DurationMs, 5*without.Audio.DurationMs,
				"the alias is said: %d ms with it, %d ms without", withEntry.Audio.DurationMs, without.Audio.DurationMs)

			// Retrying the failed attempt says what it was created with.
			var retried struct{ RetryGeneration gen }
			c.Must(`mutation($id: ID!) { retryGeneration(id: $id) { id } }`, map[string]any{"id": first.ID}, &retried)
			retry := finished(retried.RetryGeneration.ID)
			require.Equal(t, "SUCCEEDED", retry.Status, "%+v", retry.Error)
			require.Equal(t, withEntry.Audio.DurationMs, retry.Audio.DurationMs, "the entries stored with the first attempt, not today's lexicon")
		})
	}
}

// TestLexiconCannotBalloonText: entries may lengthen what is spoken, but
// not past twice the longest text a generation may have: a job's memory
// does not grow with its owner's aliases. The refusal names input.text
// and stores nothing.
func TestLexiconCannotBalloonText(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_MAX_TEXT_CHARS": "1000"})
	c, _ := roomyUser(t, srv, "balloon@example.com")
	upsertEntry(t, c, map[string]any{"grapheme": "a", "alias": strings.Repeat("b", 500)})

	gensBefore, jobsBefore := rows(t, srv)
	r := c.Do(createGeneration, map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": "a a a a a"}})
	require.Len(t, r.Errors, 1)
	require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code())
	require.Equal(t, "input.text", r.Errors[0].Field())
	require.Contains(t, r.Errors[0].Message, "2504 characters long with your pronunciation lexicon applied; the limit is 2000")
	gensAfter, jobsAfter := rows(t, srv)
	require.Equal(t, gensBefore, gensAfter)
	require.Equal(t, jobsBefore, jobsAfter)

	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "a a a"})
	require.Equal(t, 5, g.Characters, "billed on the text as written")
}
