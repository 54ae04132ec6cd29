package apptest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"
)

// FirebaseProject is the demo project tests sign people up in; demo-*
// projects need no Google account.
const FirebaseProject = "demo-koe"

// Emulator is the Firebase Auth emulator the test command starts.
type Emulator struct {
	Host string
	t    testing.TB
}

// FirebaseEmulator returns the emulator at FIREBASE_AUTH_EMULATOR_HOST. The
// test is skipped without one, except under CI=true where it fails.
func FirebaseEmulator(t testing.TB) *Emulator {
	t.Helper()
	host := os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the Firebase Auth emulator is required under CI: run the tests with `make test`")
		}
		t.Skip("FIREBASE_AUTH_EMULATOR_HOST is not set; `make test` starts the emulator")
	}
	return &Emulator{Host: host, t: t}
}

// Env is the configuration that points Koe at the emulator.
func (e *Emulator) Env() map[string]string {
	return map[string]string{"FIREBASE_PROJECT_ID": FirebaseProject, "FIREBASE_AUTH_EMULATOR_HOST": e.Host}
}

func (e *Emulator) call(path string, admin bool, body, out any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.Host+"/identitytoolkit.googleapis.com/v1/"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if admin {
		req.Header.Set("Authorization", "Bearer owner")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("emulator %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		e.t.Fatalf("emulator %s: %s: %s", path, resp.Status, msg.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("emulator %s: %v", path, err)
		}
	}
}

// SignUp makes a new account with email and password and returns its uid and
// an ID token, as the web app's sign-up does.
func (e *Emulator) SignUp(email, displayName string) (uid, idToken string) {
	e.t.Helper()
	var out struct{ LocalID, IDToken string }
	e.call("accounts:signUp?key=fake-api-key", false, map[string]any{
		"email": email, "password": "correct horse battery", "displayName": displayName, "returnSecureToken": true,
	}, &out)
	return out.LocalID, out.IDToken
}

// SignIn returns a fresh ID token of an account made by SignUp.
func (e *Emulator) SignIn(email string) string {
	e.t.Helper()
	var out struct{ IDToken string }
	e.call("accounts:signInWithPassword?key=fake-api-key", false, map[string]any{
		"email": email, "password": "correct horse battery", "returnSecureToken": true,
	}, &out)
	return out.IDToken
}

// Update changes an account as the Admin SDK would (claims, disabling,
// revoking sessions).
func (e *Emulator) Update(uid string, fields map[string]any) {
	e.t.Helper()
	fields["localId"] = uid
	e.call("projects/"+FirebaseProject+"/accounts:update", true, fields, nil)
}

// SetClaims sets an account's custom claims; tokens issued afterwards carry them.
func (e *Emulator) SetClaims(uid string, claims map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(claims)
	e.Update(uid, map[string]any{"customAttributes": string(b)})
}

// Revoke ends every session of the account that began before now.
func (e *Emulator) Revoke(uid string) {
	e.t.Helper()
	// Revocation compares whole seconds: let the current one pass first.
	time.Sleep(1100 * time.Millisecond)
	e.Update(uid, map[string]any{"validSince": fmt.Sprint(time.Now().Unix())})
}

// CraftToken returns an unsigned ID token such as the emulator issues, for
// uid in project, expiring at exp: tokens a real client could never get
// (expired, or of another project) but a forger could send.
func CraftToken(project, uid string, exp time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	iat := exp.Add(-time.Hour).Unix()
	return enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." + enc(map[string]any{
		"iss": "https://securetoken.google.com/" + project, "aud": project, "sub": uid, "user_id": uid,
		"auth_time": iat, "iat": iat, "exp": exp.Unix(),
		"firebase": map[string]any{"sign_in_provider": "password"},
	}) + "."
}
