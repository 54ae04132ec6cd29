package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// koeProcess is Koe running as a process of its own, on PostgreSQL, so that
// its memory and CPU can be read apart from the load the benchmark makes.
type koeProcess struct {
	cmd *exec.Cmd
	// URL is where it serves; DatabaseURL and DataDir are its database.
	URL, DatabaseURL, DataDir string
	debugURL, metricsURL      string
}

// buildKoe builds the server binary (the module's main package) into a
// temporary directory and returns its path. KOE_BENCH_SOURCE names another
// checkout to build instead (a second worktree at an older commit), to
// measure the code before a change with the same benchmark.
func buildKoe(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "koe")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = cmp.Or(os.Getenv("KOE_BENCH_SOURCE"), "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startKoe runs bin on a fresh PostgreSQL schema with env added to the
// defaults (the admin key apptest.AdminKey, pprof and /metrics on loopback ports) and
// waits until it serves. It is killed when the benchmark ends; it inherits
// this process's limits, the open-file limit included.
func startKoe(b *testing.B, bin string, env map[string]string) *koeProcess {
	b.Helper()
	databaseURL, dataDir := storetest.URL(b, storetest.Postgres)
	p := &koeProcess{DatabaseURL: databaseURL, DataDir: dataDir, debugURL: "http://" + freeLoopbackAddr(b), metricsURL: "http://" + freeLoopbackAddr(b)}
	e := map[string]string{
		"DATABASE_URL": databaseURL, "KOE_DATA_DIR": dataDir, "KOE_ADDR": "127.0.0.1:0",
		"KOE_ADMIN_API_KEY": apptest.AdminKey, "KOE_DEBUG_ADDR": strings.TrimPrefix(p.debugURL, "http://"),
		"KOE_METRICS_ADDR": strings.TrimPrefix(p.metricsURL, "http://"),
		// info: "koe is serving" is what says where it listens.
		"KOE_LOG_LEVEL": "info",
	}
	// KOE_BENCH_SERVER_GOGC=400 and the like set the server's runtime
	// knobs without touching this process's.
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v := os.Getenv("KOE_BENCH_SERVER_" + k); v != "" {
			e[k] = v
		}
	}
	for k, v := range env {
		e[k] = v
	}
	p.cmd = exec.Command(bin)
	// Only what the process needs: the benchmark's own environment must not
	// configure it.
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range e {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	found, exited := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(exited)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			var line struct{ Msg, URL string }
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Msg == "koe is serving" {
				found <- line.URL
			}
			b.Log(scanner.Text())
		}
	}()
	select {
	case p.URL = <-found:
	case <-exited:
		b.Fatal("koe exited before serving")
	case <-time.After(time.Minute):
		b.Fatal("koe did not start within a minute")
	}
	return p
}

// freeLoopbackAddr returns a loopback address with a port nothing listens
// on at the moment.
func freeLoopbackAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// client is an admin client of the process.
func (p *koeProcess) client(b *testing.B) *apptest.Client {
	c := &apptest.Client{URL: p.URL, Key: apptest.AdminKey}
	c.Bind(b)
	return c
}

// processMemory is what a Koe process holds at one moment.
type processMemory struct {
	rss         uint64 // resident set (VmRSS)
	heap, stack uint64 // Go's HeapInuse and StackInuse right after a GC
	goroutines  uint64
}

// goBytes is the Go heap and stacks in use.
func (m processMemory) goBytes() uint64 { return m.heap + m.stack }

// memory forces a garbage collection in the process (pprof's heap profile
// with gc=1), reads HeapInuse and StackInuse from the profile's MemStats,
// the goroutine count from /metrics, and then the resident set.
func (p *koeProcess) memory(b *testing.B) processMemory {
	b.Helper()
	var m processMemory
	for line := range strings.SplitSeq(get(b, p.debugURL+"/debug/pprof/heap?gc=1&debug=1"), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			m.heap, _ = strconv.ParseUint(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "# Stack = "); ok {
			inuse, _, _ := strings.Cut(v, " / ")
			m.stack, _ = strconv.ParseUint(inuse, 10, 64)
		}
	}
	for line := range strings.SplitSeq(get(b, p.metricsURL+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			g, _ := strconv.ParseFloat(v, 64)
			m.goroutines = uint64(g)
		}
	}
	m.rss = residentOf(strconv.Itoa(p.cmd.Process.Pid))
	if m.heap == 0 || m.rss == 0 {
		b.Fatalf("could not read the process's memory: %+v", m)
	}
	return m
}

// cpu is the CPU time the process has used so far.
func (p *koeProcess) cpu() time.Duration { return processCPU(p.cmd.Process.Pid) }

// get returns the body of a GET to url, failing on anything but 200.
func get(b *testing.B, url string) string {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// openFiles raises this process's open-file limit to want, the hard limit
// too when it may (root with CAP_SYS_RESOURCE), else as far as the hard limit
// goes, and returns the limit in force. Processes it starts inherit it (Go
// would otherwise give them the limit it found at start).
func openFiles(b *testing.B, want uint64) uint64 {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Max < want && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) == nil {
		return want
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	return lim.Cur
}

// kb is n bytes in KB (1,024 bytes), for ReportMetric.
func kb(n float64) float64 { return n / 1024 }

// perConn is the growth from before to after, in bytes, divided by n.
func perConn(before, after uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}
