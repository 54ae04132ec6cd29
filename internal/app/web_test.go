package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// appConfig is /app-config.json as the web app reads it.
type appConfig struct {
	Firebase *struct {
		APIKey, AuthDomain, ProjectID string
		EmulatorHost                  *string
	}
	Billing    bool
	Playground *string
}

func readAppConfig(t *testing.T, base string) appConfig {
	t.Helper()
	code, body := get(t, base+"/app-config.json")
	require.Equal(t, http.StatusOK, code)
	var c appConfig
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	return c
}

// TestWebApp: with KOE_WEB_DIR the server is the whole product: the web app's
// pages at /, its client-side routes on a reload, hashed assets cached for
// good, Playground at /playground, and the configuration the app signs in with.
func TestWebApp(t *testing.T) {
	t.Parallel()
	web := t.TempDir()
	for name, body := range map[string]string{
		"index.html":         "<title>Koe studio</title>",
		"200.html":           "<title>Koe shell</title>",
		"_nuxt/entry.abc.js": "console.log('koe')",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(web, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(web, name), []byte(body), 0o644))
	}
	env := apptest.FirebaseEmulator(t).Env()
	env["KOE_WEB_DIR"] = web
	srv := apptest.Boot(t, storetest.SQLite, env)

	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	_, body := get(t, srv.URL+"/")
	require.Contains(t, body, "Koe studio")
	code, body := get(t, srv.URL+"/history?status=FAILED")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Koe shell", "a client-side route loads the app's shell")
	resp, err = http.Get(srv.URL + "/_nuxt/entry.abc.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Cache-Control"), "immutable")
	code, _ = get(t, srv.URL+"/_nuxt/gone.js")
	require.Equal(t, http.StatusNotFound, code, "a missing asset is not a page")
	resp, err = http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	_, body = get(t, srv.URL+"/playground")
	require.Contains(t, strings.ToLower(body), "graphiql")
	srv.Client(apptest.AdminKey).Must(`{ voices { totalCount } }`, nil, nil)

	c := readAppConfig(t, srv.URL)
	require.NotNil(t, c.Firebase)
	require.Equal(t, apptest.FirebaseProject, c.Firebase.ProjectID)
	require.NotEmpty(t, c.Firebase.APIKey)
	require.NotNil(t, c.Firebase.EmulatorHost)
	require.Equal(t, env["FIREBASE_AUTH_EMULATOR_HOST"], *c.Firebase.EmulatorHost)
	require.False(t, c.Billing, "no Stripe here")
	require.Equal(t, "/playground", *c.Playground)

	// Without Firebase the app offers API-key sign-in; without a web build
	// Playground stays at /.
	plain := readAppConfig(t, apptest.Boot(t, storetest.SQLite, nil).URL)
	require.Nil(t, plain.Firebase)
	require.Equal(t, "/", *plain.Playground)
}
