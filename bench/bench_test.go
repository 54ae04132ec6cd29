package bench

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/gctune"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// paragraph is ordinary English prose: sentences of mixed length, numbers,
// a question, clauses, the kind of text people paste in.
const paragraph = "The lighthouse keeper climbed the stairs at dusk, as she had done every evening for eleven years. " +
	"There were one hundred and twelve steps, and she knew the sound of each one. " +
	"Was anyone still watching from the shore? She never asked, because the lamp did not care either way. " +
	"In winter the wind came from the north, cold and steady, and the glass fogged by nine o'clock; " +
	"in summer the evenings were long, and ships passed close enough to read their names. " +
	"She wrote each of them down in a small green notebook, with the date, the hour and the weather. " +
	"By the spring of 1923 the notebook held more than four thousand entries. "

// prose returns about n characters of English prose, cut after the last
// sentence that fits.
func prose(n int) string {
	s := strings.Repeat(paragraph, n/len(paragraph)+1)[:n]
	if i := strings.LastIndexAny(s, ".!?"); i > 0 {
		s = s[:i+1]
	}
	return s
}

// quiet is the environment of servers booted here: logs only on errors, so
// a benchmark's output stays readable.
var quiet = map[string]string{"KOE_LOG_LEVEL": "error"}

// boot starts Koe on kind with quiet logs, in this process. The process's
// GC is tuned as server.go tunes the server's (gctune), unless GOGC is set.
func boot(b *testing.B, kind storetest.Kind) *apptest.Server {
	b.Helper()
	return bootWith(b, kind, nil)
}

// server is a server a benchmark runs on: a database and settings.
type server struct {
	name string
	kind storetest.Kind
	env  map[string]string
}

// bootWith is boot with env added to quiet.
func bootWith(b *testing.B, kind storetest.Kind, env map[string]string) *apptest.Server {
	b.Helper()
	tuneGC.Do(func() { go gctune.Run(context.Background()) })
	e := maps.Clone(quiet)
	maps.Copy(e, env)
	return apptest.Boot(b, kind, e)
}

var tuneGC sync.Once

// percentile returns the q-quantile (0 < q <= 1) of ds by the nearest-rank
// method; ds is sorted in place.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[max(int(math.Ceil(q*float64(len(ds))))-1, 0)]
}

// mean returns the mean of ds, 0 when there are none.
func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

// ms is d in milliseconds, for ReportMetric.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuTime returns the CPU (user + system) used so far by this process and by
// its children that have been waited for (espeak-ng runs).
func cpuTime() (self, children time.Duration) {
	var s, c syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime), tv(c.Utime) + tv(c.Stime)
}
