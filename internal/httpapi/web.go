package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
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
// reload or a shared link; every answer carries the app's
// Content-Security-Policy (see webPolicy).
func serveWeb(dir string, web WebConfig, log *slog.Logger) http.Handler {
	fsys := os.DirFS(dir)
	files := http.FileServerFS(fsys)
	shell := "index.html"
	if _, err := fs.Stat(fsys, "200.html"); err == nil {
		shell = "200.html" // nuxt generate's shell for routes it did not prerender
	}
	policy, err := webPolicy(fsys, web)
	if err != nil {
		// The policy stays strict: the pages' inline scripts will not run,
		// which the browser's console says.
		log.Error("web app: hashing the pages' inline scripts for the Content-Security-Policy", "dir", dir, "err", err)
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
		h.Set("Content-Security-Policy", policy)
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

// inlineScript matches a script element and its text; the text of one ends at
// the first </script, as an HTML parser reads it.
var inlineScript = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script`)

var srcAttribute = regexp.MustCompile(`(?i)\ssrc\s*=`)

// webPolicy is the web app's Content-Security-Policy. Scripts run only from
// this server: its files, and the inline scripts of the build's pages by their
// SHA-256 (nuxt generate writes an import map and the runtime config inline,
// and they change with every build, so they are hashed from the files being
// served). With Firebase sign-in it also admits what Firebase Auth's SDK
// loads: Google's API script (for sign-in with Google), the token endpoints,
// the auth domain's frames, and the Auth emulator in development. Styles may
// be inline (Vue and the SDK set them); nothing may frame the app.
func webPolicy(fsys fs.FS, web WebConfig) (string, error) {
	scripts := []string{"'self'"}
	pages, err := fs.Glob(fsys, "*.html")
	for _, page := range pages {
		b, readErr := fs.ReadFile(fsys, page)
		if readErr != nil {
			err = readErr
			continue
		}
		for _, m := range inlineScript.FindAllSubmatch(b, -1) {
			if srcAttribute.Match(m[1]) {
				continue
			}
			sum := sha256.Sum256(m[2])
			hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			if !slices.Contains(scripts, hash) {
				scripts = append(scripts, hash)
			}
		}
	}
	connect, frames := []string{"'self'"}, []string{"'self'"}
	if fb := web.Firebase; fb != nil {
		scripts = append(scripts, "https://apis.google.com")
		connect = append(connect, "https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")
		frames = append(frames, "https://"+fb.AuthDomain)
		if fb.EmulatorHost != nil {
			connect = append(connect, "http://"+*fb.EmulatorHost)
			frames = append(frames, "http://"+*fb.EmulatorHost)
		}
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + strings.Join(scripts, " "),
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + strings.Join(connect, " "),
		"frame-src " + strings.Join(frames, " "),
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; "), err
}
