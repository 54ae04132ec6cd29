package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// TestAuthentication: public fields work without a key, @auth fields do not,
// and a bad or revoked key is refused outright, over HTTP and websockets.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)

	anon := srv.Client("")
	var v struct{ Voices struct{ TotalCount int } }
	anon.Must(`{ voices { totalCount } }`, nil, &v)
	require.GreaterOrEqual(t, v.Voices.TotalCount, 100, "about a hundred real voices")
	r := anon.Do(`{ me { id } }`, nil)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())

	for name, key := range map[string]string{"unknown key": "koe_nope", "garbage": "x y z"} {
		r := srv.Client(key).Do(`{ voices { totalCount } }`, nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, name)
		require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code(), name)
		require.Nil(t, r.Data, name)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(`{"query":"{ voices { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+apptest.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "only Bearer is accepted")

	// A key works until it is revoked, then stops on the next request and
	// on the next socket.
	_, key := srv.NewUser(auth.RoleUser, "ann@example.com")
	user := srv.Client(key)
	var me struct {
		Me struct {
			ID   string
			Role string
			Plan struct{ Code string }
		}
	}
	user.Must(`{ me { id role plan { code } } }`, nil, &me)
	require.Equal(t, "USER", me.Me.Role)
	require.Equal(t, "free", me.Me.Plan.Code)
	var keys struct{ APIKeys []struct{ ID, Prefix string } }
	user.Must(`{ apiKeys { id prefix } }`, nil, &keys)
	require.Len(t, keys.APIKeys, 1)
	require.True(t, strings.HasPrefix(key, keys.APIKeys[0].Prefix))
	user.Must(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": keys.APIKeys[0].ID}, nil)
	r = user.Do(`{ me { id } }`, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/query", http.Header{"Sec-Websocket-Protocol": {apptest.TransportWS}})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + key}}))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = conn.ReadMessage()
	var closeErr *websocket.CloseError
	require.ErrorAs(t, err, &closeErr, "the socket is closed, no data sent")
	require.Equal(t, 4401, closeErr.Code)
}

// TestOwnersSeeOnlyTheirGenerations: another user's generation is invisible
// by id, through node, in lists and subscriptions, and cannot be changed.
func TestOwnersSeeOnlyTheirGenerations(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, keyA := srv.NewUser(auth.RoleUser, "a@example.com")
	_, keyB := srv.NewUser(auth.RoleUser, "b@example.com")
	a, b := srv.Client(keyA), srv.Client(keyB)
	g := create(t, a, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Mine alone."})

	vars := map[string]any{"id": g.ID}
	var got struct {
		Generation *struct{ ID string }
		Node       *struct{ ID string }
	}
	b.Must(`query($id: ID!) { generation(id: $id) { id } node(id: $id) { id } }`, vars, &got)
	require.Nil(t, got.Generation)
	require.Nil(t, got.Node)
	var list struct{ Generations struct{ TotalCount int } }
	b.Must(`{ generations { totalCount } }`, nil, &list)
	require.Zero(t, list.Generations.TotalCount)
	for _, m := range []string{
		`mutation($id: ID!) { cancelGeneration(id: $id) { id } }`,
		`mutation($id: ID!) { retryGeneration(id: $id) { id } }`,
		`mutation($id: ID!) { deleteGeneration(id: $id) }`,
	} {
		r := b.Do(m, vars)
		require.Equal(t, "NOT_FOUND", r.Errors[0].Code(), m)
	}
	sub := b.Subscribe(apptest.TransportWS, `subscription($id: ID!) { generationUpdated(id: $id) { status } }`, vars)
	m := sub.Next(t, 10*time.Second)
	require.Equal(t, "NOT_FOUND", m.Errors[0].Code())

	// The owner and an admin do see it.
	a.Must(`query($id: ID!) { generation(id: $id) { id } node(id: $id) { id } }`, vars, &got)
	require.Equal(t, g.ID, got.Generation.ID)
	require.Equal(t, g.ID, got.Node.ID)
	srv.Client(apptest.AdminKey).Must(`query($id: ID!) { generation(id: $id) { id } }`, vars, &got)
	require.Equal(t, g.ID, got.Generation.ID)
}

// TestOperatorFieldsNeedAdmin: @hasRole(ADMIN) fields answer FORBIDDEN to a
// USER and work for an admin.
func TestOperatorFieldsNeedAdmin(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	userID, key := srv.NewUser(auth.RoleUser, "u@example.com")
	user, admin := srv.Client(key), srv.Client(apptest.AdminKey)
	for _, q := range []string{
		`{ users { totalCount } }`,
		`mutation { setVoiceEnabled(id: "espeak-ng:en-us", enabled: false) { id } }`,
		`mutation { setUserRole(userId: "` + userID + `", role: ADMIN) { id } }`,
	} {
		r := user.Do(q, nil)
		require.Len(t, r.Errors, 1, q)
		require.Equal(t, "FORBIDDEN", r.Errors[0].Code(), q)
	}
	var users struct{ Users struct{ TotalCount int } }
	admin.Must(`{ users(search: "u@example") { totalCount } }`, nil, &users)
	require.Equal(t, 1, users.Users.TotalCount)

	// A disabled voice disappears for users but stays listed for operators.
	admin.Must(`mutation { setVoiceEnabled(id: "espeak-ng:en-us", enabled: false) { id } }`, nil, nil)
	var voice struct{ Voice *struct{ Enabled bool } }
	user.Must(`{ voice(id: "espeak-ng:en-us") { enabled } }`, nil, &voice)
	require.Nil(t, voice.Voice)
	admin.Must(`{ voice(id: "espeak-ng:en-us") { enabled } }`, nil, &voice)
	require.False(t, voice.Voice.Enabled)
}

// TestAudioLinks: the link works with Range, a changed signature is refused,
// and after deleteGeneration the file is gone.
func TestAudioLinks(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "A short file.", "format": "WAV"})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	url := evs[len(evs)-1].Generation.Audio.URL

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=0-11")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	head, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, "12", resp.Header.Get("Content-Length"))
	require.True(t, bytes.HasPrefix(head, []byte("RIFF")))
	require.Equal(t, "WAVE", string(head[8:12]))

	for _, bad := range []string{strings.Replace(url, "sig=", "sig=A", 1), strings.Replace(url, "exp=", "exp=1", 1), strings.Split(url, "?")[0]} {
		resp, err := http.Get(bad)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode, bad)
	}

	var del struct{ DeleteGeneration string }
	c.Must(`mutation($id: ID!) { deleteGeneration(id: $id) }`, map[string]any{"id": g.ID}, &del)
	require.Equal(t, g.ID, del.DeleteGeneration)
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	}, 30*time.Second, 50*time.Millisecond, "the audio is deleted by its job")
	var after struct{ Generation *struct{ ID string } }
	c.Must(`query($id: ID!) { generation(id: $id) { id } }`, map[string]any{"id": g.ID}, &after)
	require.Nil(t, after.Generation)
}

// TestRetryCanceledGeneration queues a new generation with the same input.
func TestRetryCanceledGeneration(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:fr", "text": text(40000), "format": "OGG_OPUS", "speed": 1.5, "pitch": -3})
	c.Must(`mutation($id: ID!) { cancelGeneration(id: $id) { id } }`, map[string]any{"id": g.ID}, nil)
	r := c.Do(`mutation { retryGeneration(id: "`+g.ID+`") { id } }`, nil)
	require.Empty(t, r.Errors)
	var retried struct {
		RetryGeneration struct {
			ID, Status, Format string
			Speed, Pitch       float64
			Voice              struct{ ID string }
		}
	}
	c.Must(`mutation($id: ID!) { retryGeneration(id: $id) { id status format speed pitch voice { id } } }`, map[string]any{"id": g.ID}, &retried)
	n := retried.RetryGeneration
	require.NotEqual(t, g.ID, n.ID)
	require.Equal(t, "QUEUED", n.Status)
	require.Equal(t, "OGG_OPUS", n.Format)
	require.Equal(t, 1.5, n.Speed)
	require.Equal(t, -3.0, n.Pitch)
	require.Equal(t, "espeak-ng:fr", n.Voice.ID)

	// A generation that is not finished cannot be retried.
	r = c.Do(`mutation($id: ID!) { retryGeneration(id: $id) { id } }`, map[string]any{"id": n.ID})
	require.Equal(t, "CONFLICT", r.Errors[0].Code())
}

// TestProductionLocksDown: introspection and Playground are off in
// production unless enabled, and oversized bodies are refused.
func TestProductionLocksDown(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ENV": "production", "KOE_MAX_BODY_BYTES": "4096"})
	r := srv.Client("").Do(`{ __schema { types { name } } }`, nil)
	require.NotEmpty(t, r.Errors)
	require.Contains(t, []string{"", "null"}, string(r.Data), "no schema is revealed")

	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, strings.ToLower(string(body)), "graphiql")

	big, _ := json.Marshal(map[string]any{"query": "{ voices { totalCount } }", "variables": map[string]any{"pad": strings.Repeat("x", 5000)}})
	resp, err = http.Post(srv.URL+"/query", "application/json", bytes.NewReader(big))
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode)

	dev := apptest.Boot(t, storetest.SQLite, nil)
	dev.Client("").Must(`{ __schema { queryType { name } } }`, nil, nil)
	resp, err = http.Get(dev.URL + "/")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, strings.ToLower(string(body)), "graphiql")
}

// TestComplexityLimit refuses a query that would touch too many rows.
func TestComplexityLimit(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	r := srv.Client(apptest.AdminKey).Do(`{
		a: voices(first: 100) { edges { node { id name language languageName gender engine description tags enabled } } }
		b: voices(first: 100) { edges { node { id name language languageName gender engine description tags enabled } } }
		c: voices(first: 100) { edges { node { id name language languageName gender engine description tags enabled } } }
		d: voices(first: 100) { edges { node { id name language languageName gender engine description tags enabled } } }
		e: voices(first: 100) { edges { node { id name language languageName gender engine description tags enabled } } }
	}`, nil)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", r.Errors[0].Code())
}

// TestHealthAndPersistedQueries: /healthz and /readyz answer; an unknown
// persisted query asks for the full text once, then the hash alone works.
func TestHealthAndPersistedQueries(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	}

	const query = "{ plans { code } }"
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) apptest.Response {
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+"/query", "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		defer resp.Body.Close()
		var r apptest.Response
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		return r
	}
	r := post(map[string]any{"extensions": ext})
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", r.Errors[0].Code())
	r = post(map[string]any{"query": query, "extensions": ext})
	require.Empty(t, r.Errors)
	r = post(map[string]any{"extensions": ext})
	require.Empty(t, r.Errors)
	require.Contains(t, string(r.Data), `"free"`)
}

// TestHostileQueriesAreRefused: a 1,000-deep query, thousands of aliases and
// a 50 MB body are refused before execution, and the server keeps answering.
func TestHostileQueriesAreRefused(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	c := srv.Client(apptest.AdminKey)

	deep := func(n int) string {
		return `{ __type(name: "Query") { ` + strings.Repeat("ofType { ", n) + "name" + strings.Repeat(" }", n) + " } }"
	}
	// gqlparser itself stops at 1,000 levels; our limit is far below.
	r := c.Do(deep(1000), nil)
	require.Len(t, r.Errors, 1, "%+v", r.Errors)
	require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), "%+v", r.Errors)
	r = c.Do(deep(200), nil)
	require.Len(t, r.Errors, 1, "%+v", r.Errors)
	require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", r.Errors[0].Code(), "%+v", r.Errors)
	require.Contains(t, r.Errors[0].Message, "deep")
	c.Must(deep(8), nil, nil) // introspection-deep queries still work

	var many strings.Builder
	many.WriteString("{")
	for i := range 300 {
		fmt.Fprintf(&many, " a%d: plans { code name }", i)
	}
	many.WriteString(" }")
	r = c.Do(many.String(), nil)
	require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", r.Errors[0].Code(), "%+v", r.Errors)

	many.Reset()
	many.WriteString("{")
	for i := range 10_000 {
		fmt.Fprintf(&many, " a%d: plans { code }", i)
	}
	many.WriteString(" }")
	r = c.Do(many.String(), nil)
	require.NotEmpty(t, r.Errors, "10,000 aliases pass the parser's token limit")
	require.Contains(t, []string{"", "null"}, string(r.Data))

	huge := bytes.Repeat([]byte("x"), 50<<20)
	resp, err := http.Post(srv.URL+"/query", "application/json", bytes.NewReader(huge))
	if err == nil { // the server may also just close the connection mid-upload
		resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	}

	var plans struct{ Plans []struct{ Code string } }
	c.Must(`{ plans { code } }`, nil, &plans)
	require.Len(t, plans.Plans, 3, "still answering")
}

// TestRevokingAKeyEndsItsSockets: a revoked API key's open subscription ends
// with 4401, on the replica that revoked it and on another.
func TestRevokingAKeyEndsItsSockets(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			sockets := []*apptest.Server{srv}
			if kind == storetest.Postgres {
				sockets = append(sockets, srv.Another(nil)) // a second replica holds one socket
			}
			_, key := srv.NewUser(auth.RoleUser, "leaky@example.com")
			var subs []*apptest.Subscription
			for _, s := range sockets {
				subs = append(subs, s.Client(key).Subscribe(apptest.TransportWS, `subscription { myGenerationUpdates { status } }`, nil))
			}
			other := srv.Client(apptest.AdminKey).Subscribe(apptest.TransportWS, `subscription { myGenerationUpdates { status } }`, nil)

			var keys struct{ APIKeys []struct{ ID string } }
			user := srv.Client(key)
			user.Must(`{ apiKeys { id } }`, nil, &keys)
			user.Must(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": keys.APIKeys[0].ID}, nil)

			for _, sub := range subs {
				select {
				case code := <-sub.Closed:
					require.Equal(t, 4401, code, "closed as unauthorized, so clients do not reconnect with the key")
				case <-time.After(10 * time.Second):
					t.Fatal("the revoked key's socket is still open")
				}
			}
			select {
			case <-other.Closed:
				t.Fatal("another key's socket was closed too")
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}

// operatorCalls calls every @hasRole(ADMIN) field; TestEveryOperatorFieldIsForbidden
// checks the list against the schema, so a new operator field must be added here.
var operatorCalls = map[string]string{
	"Query.users":               `{ users { totalCount } }`,
	"Query.broadcasts":          `{ broadcasts { totalCount } }`,
	"Query.kpis":                `{ kpis(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { mrrCents } }`,
	"Mutation.setUserRole":      `mutation { setUserRole(userId: "usr_06h1pxqjw9sphck41qec0g4pbm", role: ADMIN) { id } }`,
	"Mutation.setUserDisabled":  `mutation { setUserDisabled(userId: "usr_06h1pxqjw9sphck41qec0g4pbm", disabled: true) { id } }`,
	"Mutation.upsertPlan":       `mutation { upsertPlan(input: {code: "x", name: "X", monthlyPriceCents: 1, currency: "usd", includedCharacters: 1, maxConcurrentGenerations: 1, maxCharactersPerGeneration: 1}) { id } }`,
	"Mutation.upsertCreditPack": `mutation { upsertCreditPack(input: {code: "x", name: "X", characters: 1, priceCents: 1, currency: "usd"}) { id } }`,
	"Mutation.setVoiceEnabled":  `mutation { setVoiceEnabled(id: "espeak-ng:en-us", enabled: false) { id } }`,
	"Mutation.createBroadcast":  `mutation { createBroadcast(input: {subject: "s", textBody: "t"}) { id } }`,
	"Mutation.cancelBroadcast":  `mutation { cancelBroadcast(id: "x") { id } }`,
}

// TestEveryOperatorFieldIsForbidden: a USER gets FORBIDDEN from every
// @hasRole(ADMIN) field, and nothing changes.
func TestEveryOperatorFieldIsForbidden(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../graph/schema.graphqls")
	require.NoError(t, err)
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Input: string(b)})
	require.Nil(t, gqlErr)
	var operators []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			if d := f.Directives.ForName("hasRole"); d != nil && d.Arguments.ForName("role").Value.Raw == "ADMIN" {
				operators = append(operators, root.Name+"."+f.Name)
			}
		}
	}
	require.ElementsMatch(t, operators, slices.Collect(maps.Keys(operatorCalls)), "every operator field is called below")

	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, key := srv.NewUser(auth.RoleUser, "curious@example.com")
	user := srv.Client(key)
	for name, q := range operatorCalls {
		r := user.Do(q, nil)
		require.Len(t, r.Errors, 1, name)
		require.Equal(t, "FORBIDDEN", r.Errors[0].Code(), name)
	}
	var v struct{ Voice struct{ Enabled bool } }
	user.Must(`{ voice(id: "espeak-ng:en-us") { enabled } }`, nil, &v)
	require.True(t, v.Voice.Enabled, "the refused mutation changed nothing")
}

// TestBrowserOrigins: CORS and websocket upgrades admit the origins of
// KOE_ALLOWED_ORIGINS (and the server's own) and no others.
func TestBrowserOrigins(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ALLOWED_ORIGINS": "https://app.koe.test"})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://app.koe.test")
	require.Equal(t, "https://app.koe.test", ok.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Empty(t, ok.Header.Get("Access-Control-Allow-Credentials"), "no cookies, no credentialed CORS")
	require.Empty(t, preflight("https://evil.test").Header.Get("Access-Control-Allow-Origin"))

	dial := func(origin string) (*websocket.Conn, *http.Response, error) {
		return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/query",
			http.Header{"Sec-Websocket-Protocol": {apptest.TransportWS}, "Origin": {origin}})
	}
	conn, _, err := dial("https://app.koe.test")
	require.NoError(t, err)
	conn.Close()
	_, resp, err := dial("https://evil.test")
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}
