package app_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const usageQuery = `{ usage { includedCharacters usedCharacters reservedCharacters creditCharacters overageCharacters remainingCharacters daily { date characters generations } } }`

type usageNumbers struct {
	IncludedCharacters  int
	UsedCharacters      int
	ReservedCharacters  int
	CreditCharacters    int
	OverageCharacters   int
	RemainingCharacters *int
	Daily               []struct {
		Date        string
		Characters  int
		Generations int
	}
}

// tenThousandPlan makes a plan of 10,000 included characters with no
// overage and room for 100 generations at once, and moves a new user onto
// it (as a subscription will).
func tenThousandPlan(t *testing.T, srv *apptest.Server) (*apptest.Client, string) {
	t.Helper()
	srv.Client(apptest.AdminKey).Must(`mutation { upsertPlan(input: {code: "tenk", name: "Ten thousand", monthlyPriceCents: 100,
		currency: "usd", includedCharacters: 10000, maxConcurrentGenerations: 100, maxCharactersPerGeneration: 1000}) { id } }`, nil, nil)
	userID, key := srv.NewUser(auth.RoleUser, "counted@example.com")
	_, err := srv.DB().NewRaw("UPDATE users SET plan_code = 'tenk' WHERE id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
	return srv.Client(key), userID
}

// TestQuotaRace: 40 concurrent generations of 500 characters against 10,000
// → exactly 20 accepted and 20 QUOTA_EXCEEDED, and used + reserved never
// above 10,000.
func TestQuotaRace(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			c, userID := tenThousandPlan(t, srv)

			stop := make(chan struct{})
			var peak atomic.Int64
			sampled := make(chan struct{})
			go func() { // watch the ledger under the API while the burst runs
				defer close(sampled)
				for {
					var sum int64
					_ = srv.DB().NewRaw("SELECT COALESCE(SUM(used_characters + reserved_characters), 0) FROM usage_periods WHERE user_id = ?", userID).
						Scan(context.Background(), &sum)
					if sum > peak.Load() {
						peak.Store(sum)
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()
			var accepted, refused atomic.Int64
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() {
					r := c.Do(createGeneration, map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": text(500)}})
					switch {
					case len(r.Errors) == 0:
						accepted.Add(1)
					case r.Errors[0].Code() == "QUOTA_EXCEEDED":
						refused.Add(1)
					default:
						t.Errorf("unexpected: %+v", r.Errors)
					}
				})
			}
			wg.Wait()
			close(stop)
			<-sampled
			require.EqualValues(t, 20, accepted.Load())
			require.EqualValues(t, 20, refused.Load())
			require.LessOrEqual(t, peak.Load(), int64(10000))

			var u struct{ Usage usageNumbers }
			c.Must(usageQuery, nil, &u)
			require.Equal(t, 20*len(text(500)), u.Usage.UsedCharacters+u.Usage.ReservedCharacters)
			require.Equal(t, 10000-20*len(text(500)), *u.Usage.RemainingCharacters)
			require.Equal(t, 10000, u.Usage.IncludedCharacters)
		})
	}
}

// TestCanceledAndFailedGiveCharactersBack: the ledger returns the
// characters of a canceled or failed generation, and counts a succeeded
// one once, by day.
func TestCanceledAndFailedGiveCharactersBack(t *testing.T) {
	t.Parallel()
	speech, _ := speechServer(t, 0)
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{
		"KOE_OPENAI_TTS_URL": speech.URL, "KOE_OPENAI_TTS_KEY": "sk-test", "KOE_OPENAI_TTS_VOICES": "alloy,broken,slow",
	})
	c, _ := tenThousandPlan(t, srv)
	usageNow := func() usageNumbers {
		var u struct{ Usage usageNumbers }
		c.Must(usageQuery, nil, &u)
		return u.Usage
	}

	long := create(t, c, map[string]any{"voiceId": "openai:slow", "text": text(1000)})
	require.Equal(t, long.Characters, usageNow().ReservedCharacters)
	c.Must(`mutation($id: ID!) { cancelGeneration(id: $id) { id } }`, map[string]any{"id": long.ID}, nil)
	require.Equal(t, 0, usageNow().ReservedCharacters, "a canceled generation gives its characters back")

	broken := create(t, c, map[string]any{"voiceId": "openai:broken", "text": text(700)})
	evs := events(t, follow(t, c, apptest.TransportWS, broken.ID), time.Minute)
	require.Equal(t, "FAILED", evs[len(evs)-1].Status)
	u := usageNow()
	require.Equal(t, 0, u.ReservedCharacters, "a failed generation gives its characters back")
	require.Equal(t, 0, u.UsedCharacters)

	ok := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(300)})
	evs = events(t, follow(t, c, apptest.TransportWS, ok.ID), time.Minute)
	require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)
	u = usageNow()
	require.Equal(t, ok.Characters, u.UsedCharacters)
	require.Equal(t, 10000-ok.Characters, *u.RemainingCharacters)
	require.Len(t, u.Daily, 1)
	require.Equal(t, time.Now().UTC().Format(time.DateOnly), u.Daily[0].Date)
	require.Equal(t, ok.Characters, u.Daily[0].Characters)
	require.Equal(t, 1, u.Daily[0].Generations)

	r := c.Do(createGeneration, map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": strings.Repeat("a", 1001)}})
	require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), "the plan's characters per generation")
	require.Contains(t, r.Errors[0].Message, "1000")
}

// TestIdempotentReservation: the same idempotency key ten times at once
// makes one generation and holds its characters once.
func TestIdempotentReservation(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			c, userID := tenThousandPlan(t, srv)
			ids := make(chan string, 10)
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": text(500), "idempotencyKey": "once"})
					ids <- g.ID
				})
			}
			wg.Wait()
			close(ids)
			seen := map[string]bool{}
			for id := range ids {
				seen[id] = true
			}
			require.Len(t, seen, 1)
			var reservations int
			require.NoError(t, srv.DB().NewRaw("SELECT count(*) FROM usage_reservations WHERE user_id = ?", userID).Scan(context.Background(), &reservations))
			require.Equal(t, 1, reservations)
			var u struct{ Usage usageNumbers }
			c.Must(usageQuery, nil, &u)
			require.Equal(t, len(text(500)), u.Usage.UsedCharacters+u.Usage.ReservedCharacters)
		})
	}
}
