package resolvers

import (
	"time"

	"github.com/koe-voice/koe/graph/generated"
	"github.com/koe-voice/koe/graph/model"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/generation"
)

// Complexity prices connection fields by the page they ask for: the
// selection of one edge times `first` (default page size when absent), so
// the complexity limit bounds the rows an operation can touch.
func Complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Voices = func(child int, _ *model.VoiceFilter, first *int, _ *string) int { return pageCost(child, first, 50) }
	c.Query.Generations = func(child int, _ *generation.Status, first *int, _ *string) int { return pageCost(child, first, 20) }
	c.Query.Users = func(child int, _ *string, _ *auth.Role, first *int, _ *string) int { return pageCost(child, first, 50) }
	c.Query.Notifications = func(child int, _ *bool, first *int, _ *string) int { return pageCost(child, first, 20) }
	c.Query.APIKeys = func(child int, first *int, _ *string) int { return pageCost(child, first, 50) }
	c.Query.Lexicon = func(child int, first *int, _ *string) int { return pageCost(child, first, 50) }
	c.Query.Broadcasts = func(child int, first *int, _ *string) int { return pageCost(child, first, 20) }
	c.Query.Kpis = func(child int, from, to time.Time) int {
		days := int(to.Sub(from).Hours()/24) + 1
		return 1 + child*min(max(days, 1), 400)
	}
	return c
}

func pageCost(child int, first *int, def int) int {
	n := def
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + child*n
}
