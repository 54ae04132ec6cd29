package voice_test

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ja"
	"github.com/koe-voice/koe/internal/voice"
)

// studio is an engine whose offer the test decides. The real engines cannot
// be made to drop a voice; espeak-ng itself is tested in internal/tts.
type studio struct {
	name   string
	mu     sync.Mutex
	voices []tts.Voice
}

var _ tts.Synthesizer = (*studio)(nil)

func (s *studio) Engine() string { return s.name }

func (s *studio) Voices(context.Context) ([]tts.Voice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.voices), nil
}

func (s *studio) Synthesize(context.Context, string, string, tts.Params, tts.PCMWriter) error {
	return tts.ErrUnknownVoice
}

func (s *studio) offer(voices ...tts.Voice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.voices = voices
}

type bundle struct {
	db      *store.DB
	catalog *voice.Catalog
}

// setup syncs a catalog of engines on a fresh database of kind.
func setup(t *testing.T, kind storetest.Kind, engines ...tts.Synthesizer) bundle {
	t.Helper()
	db := storetest.Open(t, kind)
	c := voice.NewCatalog(voice.CatalogConfig{DB: db, PublicURL: "https://koe.test", Engines: engines})
	require.NoError(t, c.Sync(t.Context()))
	return bundle{db: db, catalog: c}
}

func forEachDatabase(t *testing.T, test func(t *testing.T, kind storetest.Kind)) {
	t.Helper()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			test(t, kind)
		})
	}
}

// walk lists every voice matching f, pages of size at a time, checking what
// every page says about the whole.
func walk(t *testing.T, c *voice.Catalog, f voice.Filter, size int) []*voice.Voice {
	t.Helper()
	var (
		all   []*voice.Voice
		after *string
		total = -1
	)
	for {
		req, err := page.Parse(&size, after, 20, voice.CursorLen)
		require.NoError(t, err)
		p, err := c.List(t.Context(), f, req)
		require.NoError(t, err)
		if total == -1 {
			total = p.TotalCount
		}
		require.Equal(t, total, p.TotalCount, "the count does not change from page to page")
		all = append(all, p.Items...)
		if !p.HasNextPage {
			require.Len(t, all, total, "the pages hold every voice counted")
			return all
		}
		require.Len(t, p.Items, size, "only the last page is short")
		cursor := voice.Cursor(p.Items[len(p.Items)-1])
		after = &cursor
	}
}

func ids(voices []*voice.Voice) []string {
	out := make([]string, 0, len(voices))
	for _, v := range voices {
		out = append(out, v.ID)
	}
	return out
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperror.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperror.BadUserInput, e.Code)
	require.Equal(t, field, e.Field)
}

func TestID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "espeak-ng:en-us", voice.ID("espeak-ng", "gmw/en-US"))
	require.Equal(t, "espeak-ng:en-us", voice.ID("espeak-ng", "other-family/EN-us"), "the family may move")
	require.Equal(t, "openai:alloy", voice.ID("openai", "alloy"))
}

func TestSyncEspeakIsStable(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		b := setup(t, kind, &tts.Espeak{})
		first := walk(t, b.catalog, voice.Filter{IncludeDisabled: true}, 100)
		require.GreaterOrEqual(t, len(first), 100)

		enUS, err := b.catalog.Get(ctx, "espeak-ng:en-us")
		require.NoError(t, err)
		require.Equal(t, "espeak-ng", enUS.Engine)
		require.Equal(t, "gmw/en-US", enUS.EngineVoiceID)
		require.Equal(t, "English (America)", enUS.Name)
		require.Equal(t, "en-US", enUS.Language)
		require.Equal(t, "English", enUS.LanguageName)
		require.Equal(t, voice.GenderMale, *enUS.Gender)
		require.Equal(t, "https://koe.test/voices/espeak-ng:en-us/preview", enUS.PreviewURL)
		require.Equal(t, []string{"us", "family:gmw"}, enUS.Tags)
		require.Equal(t, tts.QualityBasic, enUS.Quality)
		require.True(t, enUS.Usable())
		_, err = b.catalog.Get(ctx, "espeak-ng:nope")
		require.Equal(t, apperror.NotFound, apperror.CodeOf(err))

		// A restart: a new engine and catalog on the same database.
		again := voice.NewCatalog(voice.CatalogConfig{DB: b.db, Engines: []tts.Synthesizer{&tts.Espeak{}}})
		require.NoError(t, again.Sync(ctx))
		second := walk(t, again, voice.Filter{IncludeDisabled: true}, 100)
		require.Equal(t, ids(first), ids(second), "the same voices under the same ids")
		still, err := again.Get(ctx, "espeak-ng:en-us")
		require.NoError(t, err)
		require.True(t, enUS.CreatedAt.Equal(still.CreatedAt), "a sync does not make the voice new")
	})
}

func TestSyncFollowsWhatEnginesOffer(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		aria := tts.Voice{EngineVoiceID: "aria", Name: "Aria", Language: "en-US", LanguageName: "English", Gender: "FEMALE"}
		bruno := tts.Voice{EngineVoiceID: "bruno", Name: "Bruno", Language: "pt-BR", LanguageName: "Portuguese", Gender: "MALE"}
		chen := tts.Voice{EngineVoiceID: "chen", Name: "Chen", Language: "cmn", LanguageName: "Chinese", Gender: "ROBOT"}
		one, other := &studio{name: "one"}, &studio{name: "other"}
		one.offer(aria, bruno, chen)
		other.offer(aria)
		b := setup(t, kind, one, other)
		listed := func() []string { return ids(walk(t, b.catalog, voice.Filter{IncludeDisabled: true}, 100)) }
		require.ElementsMatch(t, []string{"one:aria", "one:bruno", "one:chen", "other:aria"}, listed())

		_, err := b.catalog.SetEnabled(ctx, "one:aria", false)
		require.NoError(t, err)

		// one stops offering bruno.
		one.offer(aria, chen)
		require.NoError(t, b.catalog.Sync(ctx))
		require.ElementsMatch(t, []string{"one:aria", "one:chen", "other:aria"}, listed(), "an unavailable voice is not listed")
		gone, err := b.catalog.Get(ctx, "one:bruno")
		require.NoError(t, err, "the voice stays for the generations that used it")
		require.False(t, gone.Available)
		require.False(t, gone.Usable())
		kept, err := b.catalog.Get(ctx, "one:aria")
		require.NoError(t, err)
		require.False(t, kept.Enabled, "an operator's choice survives a sync")
		require.True(t, kept.Available)

		// bruno comes back, renamed; one's aria moves to another family.
		bruno.Name = "Bruno (new)"
		movedAria := aria
		movedAria.EngineVoiceID = "v2/aria"
		one.offer(movedAria, bruno, chen)
		require.NoError(t, b.catalog.Sync(ctx))
		back, err := b.catalog.Get(ctx, "one:bruno")
		require.NoError(t, err)
		require.True(t, back.Usable())
		require.Equal(t, "Bruno (new)", back.Name)
		moved, err := b.catalog.Get(ctx, "one:aria")
		require.NoError(t, err)
		require.Equal(t, "v2/aria", moved.EngineVoiceID, "same id, new engine name")
		require.False(t, moved.Enabled, "still switched off")

		// one offers nothing at all; other's voices are not its business.
		one.offer()
		require.NoError(t, b.catalog.Sync(ctx))
		require.Equal(t, []string{"other:aria"}, listed())
		chenNow, err := b.catalog.Get(ctx, "one:chen")
		require.NoError(t, err, "Get finds unavailable voices too")
		require.False(t, chenNow.Available)
		require.Nil(t, chenNow.Gender, "a gender the API does not name is unknown")
		otherAria, err := b.catalog.Get(ctx, "other:aria")
		require.NoError(t, err)
		require.True(t, otherAria.Available)
	})
}

// TestBestVoicesFirst: in one language the better voices come first
// whatever their names and regions, and pages of any size visit every voice
// once, in that order.
func TestBestVoicesFirst(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		neural, natural, standard := &studio{name: "neural"}, &studio{name: "natural"}, &studio{name: "standard"}
		neural.offer(tts.Voice{EngineVoiceID: "zed", Name: "Zed", Language: "en-GB", LanguageName: "English", Quality: tts.QualityNeural})
		natural.offer(
			tts.Voice{EngineVoiceID: "slt", Name: "slt", Language: "en-US", LanguageName: "English", Quality: tts.QualityNatural},
			tts.Voice{EngineVoiceID: "mei", Name: "Mei", Language: "ja", LanguageName: "Japanese", Quality: tts.QualityNatural},
		)
		standard.offer(
			tts.Voice{EngineVoiceID: "awb", Name: "awb", Language: "en-GB-scotland", LanguageName: "English", Quality: tts.QualityStandard},
			tts.Voice{EngineVoiceID: "kal", Name: "kal", Language: "en-US", LanguageName: "English", Quality: tts.QualityStandard},
			tts.Voice{EngineVoiceID: "nameless", Name: "Anon", Language: "en", LanguageName: "English"}, // no tier: basic
		)
		b := setup(t, kind, &tts.Espeak{}, neural, natural, standard)

		english := walk(t, b.catalog, voice.Filter{Language: "en"}, 100)
		require.Equal(t, []string{"neural:zed", "natural:slt", "standard:awb", "standard:kal"}, ids(english[:4]), "the best first, then by name")
		for i, v := range english[4:] {
			require.Equal(t, tts.QualityBasic, v.Quality, "%s", v.ID)
			if i > 0 {
				require.Less(t, english[4+i-1].Name+"\x00"+english[4+i-1].ID, v.Name+"\x00"+v.ID, "basic voices by name")
			}
		}
		require.Contains(t, ids(english[4:]), "standard:nameless", "a voice without a tier ranks with the basic ones")
		require.Contains(t, ids(english[4:]), "espeak-ng:en-us")

		japanese := walk(t, b.catalog, voice.Filter{Language: "ja"}, 100)
		require.Equal(t, []string{"natural:mei", "espeak-ng:ja"}, ids(japanese), "the voice that reads kanji before espeak-ng's")

		for _, size := range []int{1, 2, 3, 5} {
			require.Equal(t, ids(english), ids(walk(t, b.catalog, voice.Filter{Language: "en"}, size)), "pages of %d", size)
		}
		everything := walk(t, b.catalog, voice.Filter{}, 100)
		for _, size := range []int{1, 7} {
			require.Equal(t, ids(everything), ids(walk(t, b.catalog, voice.Filter{}, size)), "pages of %d", size)
		}
		first, err := page.Parse(nil, nil, 1, voice.CursorLen)
		require.NoError(t, err)
		p, err := b.catalog.List(t.Context(), voice.Filter{Language: "en"}, first)
		require.NoError(t, err)
		require.Equal(t, tts.QualityNeural, p.Items[0].Quality, "the first page starts with the best")

		languages, err := b.catalog.Languages(t.Context(), false)
		require.NoError(t, err)
		i := slices.IndexFunc(languages, func(l voice.Language) bool { return l.Tag == "en" })
		require.Equal(t, len(english), languages[i].Voices)
	})
}

// TestLanguagesAreBCP47 walks the whole catalog of the installed espeak-ng,
// through the Japanese front end as the server runs it: every language is a
// tag golang.org/x/text parses, stored in its canonical form.
func TestLanguagesAreBCP47(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is required under CI")
		}
		t.Skip("espeak-ng is not installed")
	}
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		b := setup(t, kind, ja.FrontEnd(&tts.Espeak{}))
		all := walk(t, b.catalog, voice.Filter{IncludeDisabled: true}, 100)
		require.Greater(t, len(all), 100)
		for _, v := range all {
			tag, err := language.Parse(v.Language)
			require.NoError(t, err, "%s speaks %q", v.ID, v.Language)
			require.True(t, strings.EqualFold(tag.String(), v.Language), "%s: %q is stored, %q is canonical", v.ID, v.Language, tag)
			require.Equal(t, tts.QualityBasic, v.Quality, "%s", v.ID)
		}
		klingon, err := b.catalog.Get(t.Context(), "espeak-ng:piqd")
		require.NoError(t, err)
		require.Equal(t, "tlh", klingon.Language)
		jaVoice, err := b.catalog.Get(t.Context(), "espeak-ng:ja")
		require.NoError(t, err)
		require.Equal(t, "ja", jaVoice.Language)
	})
}

// studioVoices are voices chosen to try List's filters, next to espeak-ng's.
var studioVoices = []tts.Voice{
	{EngineVoiceID: "aria", Name: "Aria", Language: "en-US", LanguageName: "English", Gender: "FEMALE", Tags: []string{"warm", "narration"}},
	{EngineVoiceID: "hundred", Name: "100% Real", Language: "en-GB", LanguageName: "English", Gender: "MALE"},
	{EngineVoiceID: "snake", Name: "snake_case", Language: "ja-JP", LanguageName: "Japanese", Tags: []string{"anime"}},
	{EngineVoiceID: "esper", Name: "Zamenhof", Language: "eo", LanguageName: "Esperanto", Gender: "MALE"},
	{EngineVoiceID: "enxet", Name: "Enxet voice", Language: "enx", LanguageName: "Enxet", Gender: "FEMALE"},
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	lower := strings.ToLower
	isLanguage := func(tag string) func(*voice.Voice) bool {
		return func(v *voice.Voice) bool {
			return strings.EqualFold(v.Language, tag) || strings.HasPrefix(lower(v.Language), lower(tag)+"-")
		}
	}
	hasGender := func(g voice.Gender) func(*voice.Voice) bool {
		return func(v *voice.Voice) bool { return v.Gender != nil && *v.Gender == g }
	}
	matches := func(s string) func(*voice.Voice) bool {
		s = lower(strings.TrimSpace(s))
		return func(v *voice.Voice) bool {
			if strings.Contains(lower(v.Name), s) || strings.Contains(lower(v.Language), s) || strings.Contains(lower(v.LanguageName), s) {
				return true
			}
			return slices.ContainsFunc(v.Tags, func(tag string) bool { return strings.Contains(lower(tag), s) })
		}
	}
	all := func(ps ...func(*voice.Voice) bool) func(*voice.Voice) bool {
		return func(v *voice.Voice) bool {
			for _, p := range ps {
				if !p(v) {
					return false
				}
			}
			return true
		}
	}
	tests := []struct {
		name     string
		filter   voice.Filter
		want     func(*voice.Voice) bool
		has, not []string // voices that must, and must not, be listed
	}{
		{"everything", voice.Filter{}, all(), []string{"espeak-ng:en-us", "studio:aria", "studio:enxet"}, nil},
		{"a base language", voice.Filter{Language: "en"}, isLanguage("en"),
			[]string{"espeak-ng:en-us", "espeak-ng:en", "espeak-ng:en-gb-scotland", "studio:aria", "studio:hundred"},
			[]string{"espeak-ng:eo", "studio:esper", "studio:enxet"}},
		{"a language in any case", voice.Filter{Language: "EN-us"}, isLanguage("en-US"),
			[]string{"espeak-ng:en-us", "espeak-ng:en-us-nyc", "studio:aria"}, []string{"espeak-ng:en", "studio:hundred"}},
		{"a language no one speaks", voice.Filter{Language: "xx"}, isLanguage("xx"), nil, []string{"studio:aria"}},
		{"a gender", voice.Filter{Gender: "FEMALE"}, hasGender("FEMALE"), []string{"studio:aria", "studio:enxet"}, []string{"studio:hundred", "studio:snake"}},
		{"an engine", voice.Filter{Engine: "studio"}, func(v *voice.Voice) bool { return v.Engine == "studio" },
			[]string{"studio:aria", "studio:snake"}, []string{"espeak-ng:en-us"}},
		{"a name", voice.Filter{Search: "ARIA"}, matches("aria"), []string{"studio:aria"}, []string{"studio:hundred"}},
		{"a language name", voice.Filter{Search: " esperanto "}, matches("esperanto"), []string{"studio:esper", "espeak-ng:eo"}, []string{"studio:aria"}},
		{"a tag", voice.Filter{Search: "narrat"}, matches("narrat"), []string{"studio:aria"}, []string{"studio:hundred"}},
		{"a dialect tag", voice.Filter{Search: "scotland"}, matches("scotland"), []string{"espeak-ng:en-gb-scotland"}, []string{"espeak-ng:en-us"}},
		{"a literal %", voice.Filter{Search: "%"}, matches("%"), []string{"studio:hundred"}, []string{"studio:aria"}},
		{"a literal % inside", voice.Filter{Search: "0% r"}, matches("0% r"), []string{"studio:hundred"}, nil},
		{"a literal _", voice.Filter{Search: "e_c"}, matches("e_c"), []string{"studio:snake"}, []string{"espeak-ng:en-us"}},
		{"a literal backslash", voice.Filter{Search: `\`}, matches(`\`), nil, []string{"studio:aria"}},
		{"JSON punctuation matches no tag", voice.Filter{Search: `","`}, matches(`","`), nil, []string{"studio:aria", "espeak-ng:en-us"}},
		{"a bracket matches nothing", voice.Filter{Search: "["}, matches("["), nil, []string{"espeak-ng:en-us"}},
		{"everything at once", voice.Filter{Language: "en", Gender: "MALE", Engine: "espeak-ng", Search: "america"},
			all(isLanguage("en"), hasGender("MALE"), func(v *voice.Voice) bool { return v.Engine == "espeak-ng" }, matches("america")),
			[]string{"espeak-ng:en-us", "espeak-ng:en-us-nyc"}, []string{"studio:aria"}},
	}
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		engine := &studio{name: "studio"}
		engine.offer(studioVoices...)
		b := setup(t, kind, &tts.Espeak{}, engine)
		everything := walk(t, b.catalog, voice.Filter{}, 100)
		for _, tt := range tests {
			got := ids(walk(t, b.catalog, tt.filter, 100))
			want := []string{}
			for _, v := range everything {
				if tt.want(v) {
					want = append(want, v.ID)
				}
			}
			require.Equal(t, want, got, tt.name)
			for _, id := range tt.has {
				require.Contains(t, got, id, tt.name)
			}
			for _, id := range tt.not {
				require.NotContains(t, got, id, tt.name)
			}
		}

		for _, bad := range []string{"en_US", "en-", "-en", "en us", "ja%", "日本", strings.Repeat("a", 9)} {
			req, err := page.Parse(nil, nil, 20, 3)
			require.NoError(t, err)
			_, err = b.catalog.List(t.Context(), voice.Filter{Language: bad}, req)
			requireInvalid(t, err, "filter.language")
		}
	})
}

func TestListPages(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		engine := &studio{name: "studio"}
		engine.offer(studioVoices...)
		b := setup(t, kind, &tts.Espeak{}, engine)

		// Every listed voice by base language, best first, then name and id,
		// bytewise: the order the pages follow whatever the database's
		// collation.
		type row struct {
			ID, Language, Name string
			Quality            int
		}
		var rows []row
		require.NoError(t, b.db.NewSelect().Table("voices").Column("id", "language", "name", "quality").Where("available AND enabled").Scan(ctx, &rows))
		base := func(tag string) string { return strings.ToLower(strings.Split(tag, "-")[0]) }
		slices.SortFunc(rows, func(a, b row) int {
			return cmp.Or(strings.Compare(base(a.Language), base(b.Language)), b.Quality-a.Quality, strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
		})
		var ordered []string
		for _, r := range rows {
			ordered = append(ordered, r.ID)
		}
		require.Greater(t, len(ordered), 100)
		for _, size := range []int{7, 1, 100} {
			require.Equal(t, ordered, ids(walk(t, b.catalog, voice.Filter{}, size)), "pages of %d visit every voice once, in order", size)
		}
		english := walk(t, b.catalog, voice.Filter{Language: "en"}, 7)
		var want []string
		for _, id := range ordered {
			if v, err := b.catalog.Get(ctx, id); err == nil && (v.Language == "en" || strings.HasPrefix(v.Language, "en-")) {
				want = append(want, id)
			}
		}
		require.Greater(t, len(want), 7)
		require.Equal(t, want, ids(english), "pages of a filtered list")

		// A cursor of the order before quality counted (language, name, id)
		// is refused, not misread.
		old := page.Cursor("en-US", "English (America)", "espeak-ng:en-us")
		_, err := page.Parse(nil, &old, 20, voice.CursorLen)
		requireInvalid(t, err, "after")
		bad := page.Cursor("en", "best", "English (America)", "espeak-ng:en-us")
		req, err := page.Parse(nil, &bad, 20, voice.CursorLen)
		require.NoError(t, err)
		_, err = b.catalog.List(ctx, voice.Filter{}, req)
		requireInvalid(t, err, "after")
	})
}

func TestDisabledVoicesAreHidden(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		b := setup(t, kind, &tts.Espeak{})
		before := walk(t, b.catalog, voice.Filter{Language: "en"}, 100)

		started := time.Now().Add(-time.Second)
		off, err := b.catalog.SetEnabled(ctx, "espeak-ng:en-us", false)
		require.NoError(t, err)
		require.False(t, off.Enabled)
		require.False(t, off.Usable())
		require.True(t, off.UpdatedAt.After(started))

		listed := ids(walk(t, b.catalog, voice.Filter{Language: "en"}, 100))
		require.NotContains(t, listed, "espeak-ng:en-us")
		require.Len(t, listed, len(before)-1)
		withDisabled := walk(t, b.catalog, voice.Filter{Language: "en", IncludeDisabled: true}, 100)
		require.Equal(t, ids(before), ids(withDisabled), "operators still see it")
		no, yes := false, true
		require.Equal(t, []string{"espeak-ng:en-us"}, ids(walk(t, b.catalog, voice.Filter{Language: "en", IncludeDisabled: true, Enabled: &no}, 100)),
			"operators can list the voices that are off")
		require.Len(t, walk(t, b.catalog, voice.Filter{Language: "en", IncludeDisabled: true, Enabled: &yes}, 100), len(before)-1)
		require.Empty(t, walk(t, b.catalog, voice.Filter{Language: "en", Enabled: &no}, 100), "others never see voices that are off")

		on, err := b.catalog.SetEnabled(ctx, "espeak-ng:en-us", true)
		require.NoError(t, err)
		require.True(t, on.Usable())
		require.Equal(t, ids(before), ids(walk(t, b.catalog, voice.Filter{Language: "en"}, 100)))

		_, err = b.catalog.SetEnabled(ctx, "espeak-ng:nope", false)
		require.Equal(t, apperror.NotFound, apperror.CodeOf(err))
	})
}

// Replicas each answer from their own copy of the catalog; a change on one
// reaches the others through the bus.
func TestReplicasSeeChanges(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		db := storetest.Open(t, kind)
		engine := &studio{name: "studio"}
		engine.offer(studioVoices...)
		bus := events.NewMemory()
		replica := func(bus events.Bus) *voice.Catalog {
			return voice.NewCatalog(voice.CatalogConfig{DB: db, Bus: bus, Engines: []tts.Synthesizer{engine}})
		}
		one, two := replica(bus), replica(bus)
		alone := replica(nil) // misses every announcement
		require.NoError(t, one.Sync(ctx))
		all := ids(walk(t, two, voice.Filter{}, 100))
		require.Len(t, all, len(studioVoices))
		require.Equal(t, all, ids(walk(t, alone, voice.Filter{}, 100)))

		_, err := one.SetEnabled(ctx, "studio:aria", false)
		require.NoError(t, err)
		require.NotContains(t, ids(walk(t, two, voice.Filter{}, 100)), "studio:aria", "switched off on another replica")
		aria, err := two.Get(ctx, "studio:aria")
		require.NoError(t, err)
		require.False(t, aria.Usable())

		engine.offer(append(studioVoices, tts.Voice{EngineVoiceID: "nova", Name: "Nova", Language: "fr", LanguageName: "French"})...)
		require.NoError(t, one.Sync(ctx))
		nova, err := two.Get(ctx, "studio:nova")
		require.NoError(t, err, "a voice synced on another replica")
		require.True(t, nova.Usable())

		// Without the bus a replica answers from its copy until it expires.
		_, err = alone.Get(ctx, "studio:nova")
		require.Equal(t, apperror.NotFound, apperror.CodeOf(err))
		voice.ExpireCopies(alone)
		_, err = alone.Get(ctx, "studio:nova")
		require.NoError(t, err, "an expired copy is read anew")
		require.NotContains(t, ids(walk(t, alone, voice.Filter{}, 100)), "studio:aria")
	})
}

// TestLanguages: the studio's language list counts, per base language, the
// voices a person can pick (variants together), and the count is what the
// language's filter lists; a voice switched off leaves it for people, not
// for operators.
func TestLanguages(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, kind storetest.Kind) {
		ctx := t.Context()
		b := setup(t, kind, &tts.Espeak{})
		languages, err := b.catalog.Languages(ctx, false)
		require.NoError(t, err)
		require.True(t, slices.IsSortedFunc(languages, func(a, b voice.Language) int { return strings.Compare(a.Tag, b.Tag) }))
		byTag := map[string]voice.Language{}
		sum := 0
		for _, l := range languages {
			require.NotContains(t, byTag, l.Tag, "one entry a language")
			byTag[l.Tag] = l
			sum += l.Voices
			require.Len(t, walk(t, b.catalog, voice.Filter{Language: l.Tag}, 100), l.Voices, "%s counts what its filter lists", l.Tag)
		}
		require.Len(t, walk(t, b.catalog, voice.Filter{}, 100), sum, "every voice is in one language")
		require.Equal(t, "English", byTag["en"].Name)
		require.Equal(t, "Klingon", byTag["tlh"].Name, "espeak-ng's piqd is BCP 47's tlh")
		require.Equal(t, "Japanese", byTag["ja"].Name)
		require.Greater(t, byTag["en"].Voices, 1, "English variants count together")

		_, err = b.catalog.SetEnabled(ctx, "espeak-ng:ja", false)
		require.NoError(t, err)
		people, err := b.catalog.Languages(ctx, false)
		require.NoError(t, err)
		require.False(t, slices.ContainsFunc(people, func(l voice.Language) bool { return l.Tag == "ja" }), "no Japanese voice left to pick")
		operators, err := b.catalog.Languages(ctx, true)
		require.NoError(t, err)
		require.Equal(t, languages, operators)
	})
}
