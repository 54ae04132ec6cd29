// Package resolvers answers GraphQL fields. Resolvers are thin: the principal
// from the context, one service call, and the answer shaped for the schema.
package resolvers

//go:generate go run ../generate

import (
	"context"
	"net/url"
	"path"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/koe-voice/koe/graph/generated"
	"github.com/koe-voice/koe/graph/loaders"
	"github.com/koe-voice/koe/graph/model"
	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/billing"
	"github.com/koe-voice/koe/internal/email/outbox"
	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/kpi"
	"github.com/koe-voice/koe/internal/lexicon"
	"github.com/koe-voice/koe/internal/notification"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/signedurl"
	"github.com/koe-voice/koe/internal/usage"
	"github.com/koe-voice/koe/internal/voice"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	AuthService         *auth.Service
	VoiceCatalog        *voice.Catalog
	GenerationService   *generation.Service
	PlanCatalog         *billing.Plans
	Usage               *usage.Service
	KPIs                *kpi.Service
	NotificationService *notification.Service
	BroadcastService    *outbox.Broadcasts
	// Lexicon keeps people's pronunciation entries.
	LexiconService *lexicon.Service
	// Payments is nil when Stripe is not configured.
	Payments *billing.Stripe
	// Signer signs audio links.
	Signer *signedurl.Signer
}

var _ generated.ResolverRoot = (*Resolver)(nil)

// Directives enforces @auth and @hasRole.
func Directives() generated.DirectiveRoot {
	return generated.DirectiveRoot{
		Auth: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := auth.Require(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		HasRole: func(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
			if _, err := auth.RequireRole(ctx, role); err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}

// principal is the caller; fields marked @auth never run without one.
func principal(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}

// pageRequest parses a connection's first and after arguments (def is
// first's default, keyLen the length of its cursors' sort key) and skips
// counting rows when the client did not select totalCount.
func pageRequest(ctx context.Context, first *int, after *string, def, keyLen int) (page.Request, error) {
	req, err := page.Parse(first, after, def, keyLen)
	req.SkipTotal = !graphql.FieldRequested(ctx, "totalCount")
	return req, err
}

// edges turns a page into a connection's edges and page info; edge makes one
// edge from its cursor and node.
func edges[T, E any](p page.Page[T], cursor func(T) string, edge func(string, T) E) ([]E, *model.PageInfo) {
	out := make([]E, len(p.Items))
	info := &model.PageInfo{HasNextPage: p.HasNextPage}
	for i, item := range p.Items {
		c := cursor(item)
		out[i] = edge(c, item)
		info.EndCursor = &c
	}
	return out, info
}

func voiceConnection(p page.Page[*voice.Voice]) *model.VoiceConnection {
	c := &model.VoiceConnection{TotalCount: p.TotalCount}
	c.Edges, c.PageInfo = edges(p, voice.Cursor, func(cursor string, v *voice.Voice) *model.VoiceEdge {
		return &model.VoiceEdge{Cursor: cursor, Node: v}
	})
	return c
}

func generationConnection(p page.Page[*generation.Generation]) *model.GenerationConnection {
	c := &model.GenerationConnection{TotalCount: p.TotalCount}
	c.Edges, c.PageInfo = edges(p, generation.Cursor, func(cursor string, g *generation.Generation) *model.GenerationEdge {
		return &model.GenerationEdge{Cursor: cursor, Node: g}
	})
	return c
}

func userConnection(p page.Page[*auth.User]) *model.UserConnection {
	c := &model.UserConnection{TotalCount: p.TotalCount}
	c.Edges, c.PageInfo = edges(p, auth.Cursor, func(cursor string, u *auth.User) *model.UserEdge {
		return &model.UserEdge{Cursor: cursor, Node: u}
	})
	return c
}

// node finds any object by its global id, or nil.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	p, _ := auth.FromContext(ctx)
	if strings.Contains(id, ":") {
		v, err := r.VoiceCatalog.Get(ctx, id)
		if apperror.CodeOf(err) == apperror.NotFound || (err == nil && !v.Usable() && !p.IsAdmin()) {
			return nil, nil
		}
		return v, err
	}
	kind, ok := gid.Kind(id)
	if !ok {
		return nil, nil
	}
	switch kind {
	case gid.Generation:
		if g, err := r.GenerationService.Get(ctx, p, id); g != nil || err != nil {
			return g, err
		}
	case gid.User:
		if p.CanSee(id) {
			u, err := loaders.For(ctx).User().Load(ctx, id)()
			if err == nil {
				return u, nil
			}
		}
	case gid.Plan:
		if pl, err := r.PlanCatalog.ByID(ctx, id); pl != nil || err != nil {
			return pl, err
		}
	case gid.Broadcast:
		if p.IsAdmin() {
			bc, err := r.BroadcastService.Get(ctx, id)
			if apperror.CodeOf(err) == apperror.NotFound {
				return nil, nil
			}
			return bc, err
		}
	case gid.Notice:
		if n, err := r.NotificationService.Get(ctx, p.UserID, id); n != nil || err != nil {
			return n, err
		}
	case gid.LexiconEntry:
		if e, err := r.LexiconService.Get(ctx, p.UserID, id); e != nil || err != nil {
			return e, err
		}
	}
	return nil, nil
}

// usageOf shapes a user's usage of the current period.
func (r *Resolver) usageOf(ctx context.Context, userID string) (*model.Usage, error) {
	u, err := r.Usage.Of(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := &model.Usage{
		PeriodStart: u.Start, PeriodEnd: u.End, IncludedCharacters: int(u.IncludedCharacters),
		UsedCharacters: int(u.UsedCharacters), ReservedCharacters: int(u.ReservedCharacters),
		CreditCharacters: int(u.CreditCharacters), OverageCharacters: int(u.OverageCharacters),
		Daily: make([]*model.UsageDay, len(u.Daily)),
	}
	if u.Remaining != nil {
		left := int(*u.Remaining)
		out.RemainingCharacters = &left
	}
	for i, d := range u.Daily {
		out.Daily[i] = &model.UsageDay{Date: d.Date, Characters: int(d.Characters), Generations: d.Generations}
	}
	return out, nil
}

// audioURL is the signed link to a generation's audio, served by /audio/.
func (r *Resolver) audioURL(key string) string {
	return r.Signer.URL("/audio/" + url.PathEscape(path.Base(key)))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
