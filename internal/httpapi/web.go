package httpapi

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

// WebConfig is what the web app reads from /app-config.json at start, so one
// static build works against any server.
type WebConfig struct {
	// Firebase is the public web configuration to sign in with; nil when the
	// server has no Firebase and people sign in with an API key.
	Firebase *FirebaseWebConfig `json:"firebase"`
	// Billing reports whether Stripe is configured.
	Billing bool `json:"billing"`
	// Playground is the path of GraphQL Playground, if it is on.
	Playground *string `json:"playground"`
}

// FirebaseWebConfig is the subset of a Firebase web app's configuration that
// Authentication needs.
type FirebaseWebConfig struct {
	APIKey     string `json:"apiKey"`
	AuthDomain string `json:"authDomain"`
	ProjectID  string `json:"projectId"`
	// EmulatorHost is the Auth emulator's host:port in development.
	EmulatorHost *string `json:"emulatorHost"`
}

// serveWeb serves the web app's static build from dir: files as they are
// (hashed assets under _nuxt/ cached for a year), and the app's shell for
// any other path without an extension, so client-side routes load on a
// reload or a shared link.
func serveWeb(dir string) http.Handler {
	fsys := os.DirFS(dir)
	files := http.FileServerFS(fsys)
	shell := "index.html"
	if _, err := fs.Stat(fsys, "200.html"); err == nil {
		shell = "200.html" // nuxt generate's shell for routes it did not prerender
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if _, err := fs.Stat(fsys, name); err == nil {
			if strings.HasPrefix(name, "_nuxt/") {
				h.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				h.Set("Cache-Control", "no-cache")
			}
			files.ServeHTTP(w, r)
			return
		}
		if path.Ext(name) != "" {
			http.NotFound(w, r) // a missing asset, not a page
			return
		}
		f, err := fsys.Open(shell)
		if err != nil {
			http.Error(w, "the web app is not built", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, shell, time.Time{}, f.(io.ReadSeeker))
	})
}
