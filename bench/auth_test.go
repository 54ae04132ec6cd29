package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// BenchmarkAuthentication measures what authentication adds to a request:
// the same small query (`{ plans { code } }`, answered from the database)
// sent without credentials, with an API key (one indexed lookup), and with
// a Firebase ID token (verified once by the Auth emulator, then cached for
// 30 s: a cache hit and one user lookup). Operators are used so no rate
// limit interferes; anonymous callers get a limit too high to reach.
// One client at a time: the difference of ns/op is the added latency.
func BenchmarkAuthentication(b *testing.B) {
	emu := apptest.FirebaseEmulator(b)
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			env := map[string]string{"KOE_ANONYMOUS_RPM": "1000000"}
			for k, v := range quiet {
				env[k] = v
			}
			for k, v := range emu.Env() {
				env[k] = v
			}
			srv := apptest.Boot(b, kind, env)
			email := fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano())
			uid, _ := emu.SignUp(email, "Bench")
			emu.SetClaims(uid, map[string]any{"role": "ADMIN"})
			credentials := map[string]string{"none": "", "api-key": apptest.AdminKey, "firebase": emu.SignIn(email)}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			body := []byte(`{"query":"{ plans { code } }"}`)
			for _, name := range []string{"none", "api-key", "firebase"} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						if c := credentials[name]; c != "" {
							req.Header.Set("Authorization", "Bearer "+c)
						}
						resp, err := client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("%s: %s", name, resp.Status)
						}
					}
				})
			}
		})
	}
}
