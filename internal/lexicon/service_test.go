package lexicon_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/lexicon"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

type bundle struct {
	db  *store.DB
	svc *lexicon.Service
	ctx context.Context
}

// setup opens a fresh database of kind with the lexicon service on it.
func setup(t *testing.T, kind storetest.Kind) bundle {
	t.Helper()
	db := storetest.Open(t, kind)
	return bundle{db: db, svc: lexicon.NewService(db), ctx: context.Background()}
}

// user adds a person and returns their id.
func (b bundle) user(t *testing.T) string {
	t.Helper()
	u := &auth.User{ID: gid.New(gid.User), Role: auth.RoleUser, PlanCode: auth.FreePlan, Locale: "en", CreatedAt: time.Now().UTC()}
	_, err := b.db.NewInsert().Model(u).Exec(b.ctx)
	require.NoError(t, err)
	return u.ID
}

// entries lists a user's whole lexicon as "grapheme|language=alias".
func (b bundle) entries(t *testing.T, userID string) []string {
	t.Helper()
	list, err := b.svc.List(b.ctx, userID, page.Request{First: page.MaxFirst})
	require.NoError(t, err)
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Grapheme+"|"+e.Language+"="+e.Alias)
	}
	for list.HasNextPage {
		cursor := lexicon.Cursor(list.Items[len(list.Items)-1])
		req, err := page.Parse(nil, &cursor, page.MaxFirst, 2)
		require.NoError(t, err)
		list, err = b.svc.List(b.ctx, userID, req)
		require.NoError(t, err)
		for _, e := range list.Items {
			out = append(out, e.Grapheme+"|"+e.Language+"="+e.Alias)
		}
	}
	return out
}

func requireCode(t *testing.T, err error, code apperror.Code, field string) {
	t.Helper()
	e, ok := apperror.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, code, e.Code, "%v", err)
	require.Equal(t, field, e.Field, "%v", err)
}

// fill gives userID n entries "w0".."w(n-1)" through one import.
func (b bundle) fill(t *testing.T, userID string, n int) {
	t.Helper()
	var lexemes strings.Builder
	for i := range n {
		fmt.Fprintf(&lexemes, "<lexeme><grapheme>w%d</grapheme><alias>x</alias></lexeme>", i)
	}
	_, err := b.svc.Import(b.ctx, userID, strings.NewReader(pls("mul", lexemes.String())), false)
	require.NoError(t, err)
}

func pls(lang, lexemes string) string {
	return `<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="` + lang + `">` +
		lexemes + `</lexicon>`
}

// TestUpsert: an entry is keyed by (owner, grapheme, language), a missing
// language included, on both databases.
func TestUpsert(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			alice, bob := b.user(t), b.user(t)
			first, err := b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "Koe", Alias: "koh-eh"})
			require.NoError(t, err)
			require.True(t, gid.Is(first.ID, gid.LexiconEntry))
			require.Nil(t, first.LanguageOrNil())

			again, err := b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: " Koe ", Alias: "ko-e", Language: "und"})
			require.NoError(t, err)
			require.Equal(t, first.ID, again.ID, "no language twice is one entry")
			require.True(t, first.CreatedAt.Equal(again.CreatedAt), "changing the alias keeps when it was added")

			en, err := b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "Koe", Alias: "koe", Language: "EN"})
			require.NoError(t, err)
			require.NotEqual(t, first.ID, en.ID)
			require.Equal(t, "en", *en.LanguageOrNil())
			_, err = b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "koe", Alias: "lower", Language: ""})
			require.NoError(t, err)
			_, err = b.svc.Upsert(b.ctx, bob, lexicon.Input{Grapheme: "Koe", Alias: "bob's"})
			require.NoError(t, err)

			require.ElementsMatch(t, []string{"Koe|=ko-e", "Koe|en=koe", "koe|=lower"}, b.entries(t, alice))
			require.Equal(t, []string{"Koe|=bob's"}, b.entries(t, bob))

			got, err := b.svc.Get(b.ctx, alice, en.ID)
			require.NoError(t, err)
			require.Equal(t, "koe", got.Alias)
			got, err = b.svc.Get(b.ctx, bob, en.ID)
			require.NoError(t, err)
			require.Nil(t, got, "another person's entry is not found")

			requireCode(t, b.svc.Delete(b.ctx, bob, en.ID), apperror.NotFound, "")
			requireCode(t, b.svc.Delete(b.ctx, alice, "usr_nope"), apperror.BadUserInput, "id")
			require.NoError(t, b.svc.Delete(b.ctx, alice, en.ID))
			requireCode(t, b.svc.Delete(b.ctx, alice, en.ID), apperror.NotFound, "")
			require.ElementsMatch(t, []string{"Koe|=ko-e", "koe|=lower"}, b.entries(t, alice))

			_, err = b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "x", Alias: "y", Language: "not a tag"})
			requireCode(t, err, apperror.BadUserInput, "input.language")
			require.Len(t, b.entries(t, alice), 2, "nothing changed")
		})
	}
}

// TestCap: a person keeps at most MaxEntries entries, however many
// requests arrive at once; changing an entry of a full lexicon still works.
func TestCap(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			alice := b.user(t)
			b.fill(t, alice, lexicon.MaxEntries-1)

			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: fmt.Sprintf("new%d", i), Alias: "x"})
				})
			}
			wg.Wait()
			succeeded := 0
			for _, err := range errs {
				if err == nil {
					succeeded++
					continue
				}
				requireCode(t, err, apperror.BadUserInput, "input")
			}
			require.Equal(t, 1, succeeded, "one request found room, the others a full lexicon")
			require.Len(t, b.entries(t, alice), lexicon.MaxEntries)

			changed, err := b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "w0", Alias: "changed"})
			require.NoError(t, err, "a full lexicon's entries can still change")
			require.Equal(t, "changed", changed.Alias)

			_, err = b.svc.Import(b.ctx, alice, strings.NewReader(pls("en", `<lexeme><grapheme>one more</grapheme><alias>x</alias></lexeme>`)), false)
			requireCode(t, err, apperror.BadUserInput, "/lexicon")
			require.Len(t, b.entries(t, alice), lexicon.MaxEntries, "the import changed nothing")
		})
	}
}

// TestImport: one transaction that merges by (grapheme, language), or
// replaces; a bad document changes nothing.
func TestImport(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			alice := b.user(t)
			kept, err := b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "Koe", Alias: "koh-eh"})
			require.NoError(t, err)
			_, err = b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "stays", Alias: "here"})
			require.NoError(t, err)

			out, err := b.svc.Import(b.ctx, alice, strings.NewReader(pls("mul", `
				<lexeme><grapheme>Koe</grapheme><alias>first</alias></lexeme>
				<lexeme><grapheme>tomato</grapheme><phoneme>təˈmeɪtoʊ</phoneme></lexeme>
				<lexeme><grapheme>Koe</grapheme><alias>ko-e</alias></lexeme>
				<lexeme xml:lang="ja"><grapheme>東京</grapheme><alias>トーキョー</alias></lexeme>`)), false)
			require.NoError(t, err)
			require.Equal(t, &lexicon.Imported{Entries: 2, Skipped: []int{2}, Total: 3}, out)
			require.ElementsMatch(t, []string{"Koe|=ko-e", "stays|=here", "東京|ja=トーキョー"}, b.entries(t, alice))
			got, err := b.svc.Get(b.ctx, alice, kept.ID)
			require.NoError(t, err)
			require.Equal(t, "ko-e", got.Alias, "the entry of the same key is changed, not replaced")

			before := b.entries(t, alice)
			_, err = b.svc.Import(b.ctx, alice, strings.NewReader(pls("en", `
				<lexeme><grapheme>fine</grapheme><alias>x</alias></lexeme>
				<lexeme><grapheme>bad</grapheme><alias></alias></lexeme>`)), true)
			requireCode(t, err, apperror.BadUserInput, "/lexicon/lexeme[2]/alias[1]")
			require.Equal(t, before, b.entries(t, alice), "a bad document changes nothing, even with replace")

			out, err = b.svc.Import(b.ctx, alice, strings.NewReader(pls("en", `<lexeme><grapheme>only</grapheme><alias>this</alias></lexeme>`)), true)
			require.NoError(t, err)
			require.Equal(t, &lexicon.Imported{Entries: 1, Skipped: []int{}, Total: 1}, out)
			require.Equal(t, []string{"only|en=this"}, b.entries(t, alice))
		})
	}
}

// TestExportImportRoundTrip: what one person exports, another imports as
// the same entries; ?language exports one language's entries alone.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLite)
	alice, bob := b.user(t), b.user(t)
	for _, in := range []lexicon.Input{
		{Grapheme: "Koe", Alias: "koh-eh"}, {Grapheme: "AWS", Alias: "Amazon Web Services", Language: "en"},
		{Grapheme: "東京", Alias: "トーキョー", Language: "ja-JP"}, {Grapheme: "a<b & c", Alias: `"quoted" 'alias'`, Language: "en-GB"},
	} {
		_, err := b.svc.Upsert(b.ctx, alice, in)
		require.NoError(t, err)
	}
	var doc bytes.Buffer
	require.NoError(t, b.svc.Export(b.ctx, alice, "", &doc))
	_, err := b.svc.Import(b.ctx, bob, &doc, false)
	require.NoError(t, err)
	require.ElementsMatch(t, b.entries(t, alice), b.entries(t, bob))

	var en bytes.Buffer
	require.NoError(t, b.svc.Export(b.ctx, alice, "EN", &en))
	require.Contains(t, en.String(), `xml:lang="en"`)
	require.Contains(t, en.String(), "AWS")
	require.NotContains(t, en.String(), "Koe", "only the entries of en")
	require.NotContains(t, en.String(), "東京")

	requireCode(t, b.svc.Export(b.ctx, alice, "en US", &en), apperror.BadUserInput, "language")
}

// TestChooseAndApply: a generation keeps the entries of its voice's
// language that change its text, and applying them later says the same
// whatever the lexicon holds by then.
func TestChooseAndApply(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			alice, bob := b.user(t), b.user(t)
			for _, in := range []lexicon.Input{
				{Grapheme: "Koe", Alias: "koh-eh", Language: "en"},
				{Grapheme: "Koe", Alias: "コエ", Language: "ja"},
				{Grapheme: "AWS", Alias: "Amazon Web Services"},
				{Grapheme: "unused", Alias: "never"},
			} {
				_, err := b.svc.Upsert(b.ctx, alice, in)
				require.NoError(t, err)
			}
			_, err := b.svc.Upsert(b.ctx, bob, lexicon.Input{Grapheme: "runs", Alias: "bob's"})
			require.NoError(t, err)
			text := "Koe runs on AWS."

			chosen, err := b.svc.Choose(b.ctx, alice, "en-US", text)
			require.NoError(t, err)
			require.JSONEq(t, `[{"grapheme":"AWS","alias":"Amazon Web Services"},{"grapheme":"Koe","alias":"koh-eh","language":"en"}]`, chosen)
			spoken, err := b.svc.Apply(text, chosen)
			require.NoError(t, err)
			require.Equal(t, "koh-eh runs on Amazon Web Services.", spoken, "bob's entries are not alice's")

			ja, err := b.svc.Choose(b.ctx, alice, "ja", text)
			require.NoError(t, err)
			spoken, err = b.svc.Apply(text, ja)
			require.NoError(t, err)
			require.Equal(t, "コエ runs on Amazon Web Services.", spoken)

			none, err := b.svc.Choose(b.ctx, alice, "en-US", "Nothing to change.")
			require.NoError(t, err)
			require.Empty(t, none)

			// Edits after the choice do not change what it says.
			_, err = b.svc.Upsert(b.ctx, alice, lexicon.Input{Grapheme: "Koe", Alias: "something else", Language: "en"})
			require.NoError(t, err)
			spoken, err = b.svc.Apply(text, chosen)
			require.NoError(t, err)
			require.Equal(t, "koh-eh runs on Amazon Web Services.", spoken)
		})
	}
}
