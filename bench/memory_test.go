package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/koe-voice/koe/internal/apptest"
)

// digits is n characters of "9999999999999. ", the text that makes the most
// audio per character (security review, finding 2).
func digits(n int) string {
	return strings.TrimSpace(strings.Repeat("9999999999999. ", n/15+1)[:n])
}

// BenchmarkGenerationMemory measures what one generation costs a Koe server
// running as its own process (on PostgreSQL, espeak-ng, the admin key so no
// cap applies): the growth of the process's peak resident set (VmHWM in
// /proc/<pid>/status) over what it had after booting and speaking one short
// warm-up text, for 200, 5,000 and 20,000 characters of prose and of
// "9999999999999. " at speed 0.5, in MP3 and WAV. A fresh process serves
// each case, so every peak is that generation's. It also reports the
// audio's length and size, the wall time from createGeneration to
// SUCCEEDED, and the CPU the server and its engine and encoder processes
// used. With KOE_BENCH_SOURCE the same runs measure another checkout.
// Run with -benchtime 1x; ~25 minutes for all twelve cases on 2 cores.
func BenchmarkGenerationMemory(b *testing.B) {
	bin := buildKoe(b)
	texts := []struct {
		name string
		make func(int) string
	}{{"prose", prose}, {"digits", digits}}
	for _, tx := range texts {
		for _, n := range []int{200, 5000, 20000} {
			for _, format := range []string{"MP3", "WAV"} {
				b.Run(fmt.Sprintf("%s/chars=%d/%s", tx.name, n, format), func(b *testing.B) {
					text := tx.make(n)
					var growth, peak, audio, size, cpu, wall float64
					for range b.N {
						p := startKoe(b, bin, map[string]string{"KOE_JOB_TIMEOUT": "3h"})
						c := p.client(b)
						generate(b, c, "Warm up.", format)
						before := peakResident(b, p.cmd.Process.Pid)
						cpu0 := treeCPU(p.cmd.Process.Pid)
						p.saveProfile(b, "allocs", b.Name()+".before")
						start := time.Now()
						g := generate(b, c, text, format)
						p.saveProfile(b, "allocs", b.Name()+".after")
						wall += time.Since(start).Seconds()
						cpu += (treeCPU(p.cmd.Process.Pid) - cpu0).Seconds()
						after := peakResident(b, p.cmd.Process.Pid)
						growth += mb(after - before)
						peak += mb(after)
						audio += float64(g.Audio.DurationMs) / 1000
						size += mb(uint64(g.Audio.Bytes))
						_ = p.cmd.Process.Kill()
						_ = p.cmd.Wait()
					}
					k := float64(b.N)
					b.ReportMetric(growth/k, "hwm-growth-MB")
					b.ReportMetric(peak/k, "hwm-MB")
					b.ReportMetric(audio/k, "audio-s")
					b.ReportMetric(size/k, "file-MB")
					b.ReportMetric(wall/k, "wall-s")
					b.ReportMetric(cpu/k, "cpu-s")
				})
			}
		}
	}
}

// saveProfile writes the server's pprof profile kind to
// $KOE_BENCH_PROFILE_DIR/<name>.pprof when that variable is set (compare two
// allocs profiles with `go tool pprof -base`). It collects garbage first, as
// the profile is as of the last collection.
func (p *koeProcess) saveProfile(b *testing.B, kind, name string) {
	b.Helper()
	dir := os.Getenv("KOE_BENCH_PROFILE_DIR")
	if dir == "" {
		return
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", "=", "").Replace(name)+".pprof")
	if err := os.WriteFile(file, []byte(get(b, p.debugURL+"/debug/pprof/"+kind+"?gc=1")), 0o644); err != nil {
		b.Fatal(err)
	}
}

// generated is what generate waits for.
type generated struct {
	Status string
	Audio  struct {
		DurationMs int
		Bytes      int64
	}
	Error *struct{ Code, Message string }
}

// generate speaks text at speed 0.5 in format and follows it over a
// websocket until it has succeeded (a poll would add requests, and their
// garbage, to the server's memory).
func generate(b *testing.B, c *apptest.Client, text, format string) generated {
	b.Helper()
	var created struct{ CreateGeneration struct{ ID string } }
	c.Must(`mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"voiceId": "espeak-ng:en-us", "text": text, "format": format, "speed": 0.5}}, &created)
	sub := c.Subscribe(apptest.TransportWS, `subscription($id: ID!) { generationUpdated(id: $id) {
		generation { status audio { durationMs bytes } error { code message } } } }`, map[string]any{"id": created.CreateGeneration.ID})
	defer sub.Conn.Close()
	var last generated
	for {
		m := sub.Next(b, 3*time.Hour)
		if m.Complete {
			break
		}
		var e struct {
			GenerationUpdated struct{ Generation generated }
		}
		if err := json.Unmarshal(m.Data, &e); err != nil || len(m.Errors) > 0 {
			b.Fatalf("generationUpdated: %v %+v", err, m.Errors)
		}
		last = e.GenerationUpdated.Generation
	}
	if last.Status != "SUCCEEDED" {
		b.Fatalf("generation %s: %+v", last.Status, last.Error)
	}
	return last
}

// peakResident is the process's peak resident set so far (VmHWM).
func peakResident(b *testing.B, pid int) uint64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// treeCPU is the CPU time of the process and of its children it has waited
// for (espeak-ng, lame): user and system, fields 14–17 of /proc/<pid>/stat.
func treeCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}

// mb is n bytes in MB (10^6 bytes).
func mb(n uint64) float64 { return float64(n) / 1e6 }
