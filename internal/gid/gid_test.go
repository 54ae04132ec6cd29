package gid_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/gid"
)

func TestNewIsUniqueOrderedAndParses(t *testing.T) {
	t.Parallel()
	prev := ""
	seen := map[string]bool{}
	for range 1000 {
		id := gid.New(gid.Generation)
		require.True(t, gid.Is(id, gid.Generation), id)
		require.False(t, gid.Is(id, gid.User), id)
		require.False(t, seen[id])
		require.Greater(t, id, prev, "ids sort in creation order")
		seen[id], prev = true, id
	}
}

func TestKindRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "gen", "gen_", "gen_abc", "_06c3tq6w3n0bdt3x3d2yq1qg8r", "gen_06c3tq6w3n0bdt3x3d2yq1qg8U", "gen_06c3tq6w3n0bdt3x3d2yq1qg8r1"} {
		_, ok := gid.Kind(id)
		require.False(t, ok, id)
	}
}
