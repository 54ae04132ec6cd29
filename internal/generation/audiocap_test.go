package generation

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAudioCap: a generation may make 1 s of audio per billed character,
// at least a minute, and never more than its plan allows; operators have no
// cap.
func TestAudioCap(t *testing.T) {
	t.Parallel()
	plan := PlanLimits{MaxAudioSeconds: 7200}
	tests := []struct {
		name       string
		lim        PlanLimits
		unlimited  bool
		characters int
		want       *int
	}{
		{name: "a short text gets the floor", lim: plan, characters: 2, want: ptr(60)},
		{name: "a second a character", lim: plan, characters: 5000, want: ptr(5000)},
		{name: "the plan's cap", lim: plan, characters: 20000, want: ptr(7200)},
		{name: "a plan cap under the floor wins", lim: PlanLimits{MaxAudioSeconds: 3}, characters: 2, want: ptr(3)},
		{name: "no plan cap", characters: 100000, want: ptr(100000)},
		{name: "operators", lim: plan, unlimited: true, characters: 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, audioCap(tt.lim, tt.unlimited, tt.characters))
		})
	}
}

func ptr(n int) *int { return &n }
