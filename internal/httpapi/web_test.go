package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nuxtShell is the shape of what `nuxt generate` writes for Koe's web app: an
// inline import map, the inline runtime config, an external entry module,
// and an inline JSON payload.
const nuxtShell = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
	`<script type="importmap">{"imports":{"#entry":"/_nuxt/DAuB3Nvc.js"}}</script>` +
	`<link rel="stylesheet" href="/_nuxt/entry.css" crossorigin>` +
	`<script type="module" src="/_nuxt/DAuB3Nvc.js" crossorigin></script></head>` +
	`<body><div id="__nuxt"></div><script>window.__NUXT__={};window.__NUXT__.config={app:{baseURL:"/",buildId:"b1"}}</script>` +
	`<script type="application/json" data-nuxt-data="nuxt-app" id="__NUXT_DATA__">[{"serverRendered":1},false]</script></body></html>`

func sha256Source(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// TestWebAppPolicy: the web app had no Content-Security-Policy. Its pages
// and assets now carry one that runs scripts only from this server — its
// files and, by hash, exactly the inline scripts of the build — lets nothing
// frame the app, and admits Firebase Auth's endpoints only when people sign
// in with Firebase.
func TestWebAppPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "200.html"), []byte(nuxtShell), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(strings.Replace(nuxtShell, `buildId:"b1"`, `buildId:"b2"`, 1)), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_nuxt"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "_nuxt", "DAuB3Nvc.js"), []byte("export{}"), 0o644))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	policyOf := func(h http.Handler, path string) map[string]string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, rec.Code, path)
		directives := map[string]string{}
		for d := range strings.SplitSeq(rec.Header().Get("Content-Security-Policy"), ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		return directives
	}

	plain := serveWeb(dir, WebConfig{}, log)
	for _, path := range []string{"/", "/history", "/_nuxt/DAuB3Nvc.js"} {
		p := policyOf(plain, path)
		require.Equal(t, "'self'", p["default-src"], path)
		require.Equal(t, "'none'", p["frame-ancestors"], path)
		require.Equal(t, "'none'", p["object-src"], path)
		scripts := strings.Fields(p["script-src"])
		require.Contains(t, scripts, "'self'")
		require.NotContains(t, scripts, "'unsafe-inline'", "inline scripts run by hash only")
		require.NotContains(t, scripts, "'unsafe-eval'")
		for _, inline := range []string{
			`{"imports":{"#entry":"/_nuxt/DAuB3Nvc.js"}}`,
			`window.__NUXT__={};window.__NUXT__.config={app:{baseURL:"/",buildId:"b1"}}`,
			`window.__NUXT__={};window.__NUXT__.config={app:{baseURL:"/",buildId:"b2"}}`,
		} {
			require.Contains(t, scripts, sha256Source(inline), "%s: the page's inline script %.40s… may run", path, inline)
		}
		require.NotContains(t, p["script-src"], "googleapis", "no Firebase here")
		require.Equal(t, "'self'", p["connect-src"])
	}

	emulator := "127.0.0.1:9099"
	firebase := serveWeb(dir, WebConfig{Firebase: &FirebaseWebConfig{AuthDomain: "koe-prod.firebaseapp.com", EmulatorHost: &emulator}}, log)
	p := policyOf(firebase, "/signin")
	require.Contains(t, strings.Fields(p["script-src"]), "https://apis.google.com", "sign-in with Google loads Google's API script")
	for _, origin := range []string{"https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com", "http://127.0.0.1:9099"} {
		require.Contains(t, strings.Fields(p["connect-src"]), origin)
	}
	for _, origin := range []string{"https://koe-prod.firebaseapp.com", "http://127.0.0.1:9099"} {
		require.Contains(t, strings.Fields(p["frame-src"]), origin)
	}
}
