//go:build espeaklib

// Command espeaklib measures what a chunk of speech costs with espeak-ng
// three ways, on the chunks Koe makes of bench/testdata's texts (English,
// and Japanese through the front end's kana), one chunk at a time:
//
//   - process: one espeak-ng process per chunk, what tts.Espeak does today
//     (its Synthesize, WAV decoded into PCM in Go);
//   - cgo: libespeak-ng linked into this program, initialised once, the
//     voice set once per text, each chunk one espeak_Synth into PCM;
//   - warm: one espeak-ng process for every chunk of a text, one chunk a
//     line: a bound on what a long-lived process would cost, since nothing
//     on its stdout says where one chunk's audio ends.
//
// It prints, per text and way, the median over rounds of wall time and CPU
// (this process and its children) per chunk, and the audio made, which
// must agree between the ways. Build tag espeaklib keeps it (and cgo) out
// of the default build; it needs libespeak-ng-dev:
//
//	go run -tags espeaklib ./bench/espeaklib
package main

/*
#cgo LDFLAGS: -lespeak-ng
#include <stdlib.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

extern int collect(short *wav, int n, espeak_EVENT *events);
*/
import "C"

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/koe-voice/koe/internal/generation"
	"github.com/koe-voice/koe/internal/tts"
	"github.com/koe-voice/koe/internal/tts/ja"
)

// samples is what the library's callback has delivered for the chunk being
// spoken. AUDIO_OUTPUT_SYNCHRONOUS calls back on the thread of espeak_Synth,
// so one goroutine owns it.
var samples []int16

//export collect
func collect(wav *C.short, n C.int, _ *C.espeak_EVENT) C.int {
	if wav != nil && n > 0 {
		samples = append(samples, unsafe.Slice((*int16)(unsafe.Pointer(wav)), int(n))...)
	}
	return 0
}

// text is a testdata text as Koe's worker gives it to espeak-ng.
type text struct {
	name, voice string
	chars       int
	chunks      []string
}

func main() {
	dir := flag.String("testdata", "bench/testdata", "folder of the texts")
	rounds := flag.Int("rounds", 10, "rounds; each runs every way on every text once")
	flag.Parse()
	log.SetFlags(0)

	rate := C.espeak_Initialize(C.AUDIO_OUTPUT_SYNCHRONOUS, 0, nil, 0)
	if rate <= 0 {
		log.Fatal("espeak_Initialize failed")
	}
	C.espeak_SetSynthCallback((*C.t_espeak_callback)(C.collect))

	var texts []text
	for _, t := range []struct{ lang, voice string }{{"en", "gmw/en-US"}, {"ja", "jpx/ja"}} {
		for _, size := range []int{200, 2000} {
			b, err := os.ReadFile(filepath.Join(*dir, fmt.Sprintf("%s-%d.txt", t.lang, size)))
			if err != nil {
				log.Fatal(err)
			}
			s := strings.TrimSuffix(string(b), "\n")
			// As the worker splits, and ja.FrontEnd reads each chunk.
			chunks := tts.Split(s, generation.ChunkRunes(s))
			if t.lang == "ja" {
				for i, c := range chunks {
					chunks[i] = ja.Reading(c)
				}
			}
			texts = append(texts, text{fmt.Sprintf("%s-%d", t.lang, size), t.voice, utf8.RuneCountInString(s), chunks})
		}
	}

	type result struct{ wall, cpu, audio []time.Duration }
	ways := []struct {
		name string
		run  func(text) (time.Duration, error)
	}{
		{"process", byProcess},
		{"cgo", byLibrary},
		{"warm", byWarmProcess},
	}
	results := map[string]*result{}
	voiceSwitch := map[string][]time.Duration{}
	if _, err := process.Voices(context.Background()); err != nil { // listed once, as the server does
		log.Fatal(err)
	}
	for range *rounds {
		for _, t := range texts {
			start := time.Now()
			setVoice(t.voice)
			voiceSwitch[t.voice] = append(voiceSwitch[t.voice], time.Since(start))
			for _, w := range ways {
				cpu0 := cpuTime()
				start := time.Now()
				audio, err := w.run(t)
				if err != nil {
					log.Fatalf("%s %s: %v", w.name, t.name, err)
				}
				wall, cpu := time.Since(start), cpuTime()-cpu0
				r := results[t.name+"/"+w.name]
				if r == nil {
					r = &result{}
					results[t.name+"/"+w.name] = r
				}
				r.wall, r.cpu, r.audio = append(r.wall, wall), append(r.cpu, cpu), append(r.audio, audio)
			}
		}
	}

	fmt.Printf("libespeak-ng sample rate %d Hz; %d rounds; medians\n\n", rate, *rounds)
	fmt.Println("| text | chunks | way | ms per text | ms per chunk | CPU ms per chunk | chars/s | audio s | vs process |")
	fmt.Println("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, t := range texts {
		base := median(results[t.name+"/process"].wall)
		for _, w := range ways {
			r := results[t.name+"/"+w.name]
			wall, n := median(r.wall), float64(len(t.chunks))
			fmt.Printf("| %s | %d | %s | %.1f | %.1f | %.1f | %.0f | %.2f | %.2f× |\n", t.name, len(t.chunks), w.name,
				ms(wall), ms(wall)/n, ms(median(r.cpu))/n, float64(t.chars)/wall.Seconds(), median(r.audio).Seconds(),
				base.Seconds()/wall.Seconds())
		}
	}
	fmt.Println()
	for v, d := range voiceSwitch {
		fmt.Printf("cgo: espeak_ng_SetVoiceByName(%q) %.2f ms\n", v, ms(median(d)))
	}
}

// byProcess speaks each chunk with tts.Espeak, one process a chunk.
func byProcess(t text) (time.Duration, error) {
	var audio time.Duration
	for _, c := range t.chunks {
		pcm, err := tts.Record(context.Background(), process, t.voice, c, tts.Params{})
		if err != nil {
			return 0, err
		}
		audio += pcm.Duration()
	}
	return audio, nil
}

// process is the engine byProcess speaks with, its voices listed once.
var process = &tts.Espeak{}

// byLibrary speaks each chunk with libespeak-ng, its voice already set.
func byLibrary(t text) (time.Duration, error) {
	var audio time.Duration
	for _, c := range t.chunks {
		samples = samples[:0]
		s := C.CString(c)
		err := C.espeak_Synth(unsafe.Pointer(s), C.size_t(len(c)+1), 0, C.POS_CHARACTER, 0, C.espeakCHARS_UTF8|C.espeakENDPAUSE, nil, nil)
		C.free(unsafe.Pointer(s))
		if err != C.EE_OK {
			return 0, fmt.Errorf("espeak_Synth: error %d", err)
		}
		pcm := tts.PCM{SampleRate: 22050, Samples: slices.Clone(samples)}
		audio += pcm.Duration()
	}
	return audio, nil
}

// byWarmProcess gives every chunk to one espeak-ng, one a line, and reads
// the one WAV stream it writes for them all.
func byWarmProcess(t text) (time.Duration, error) {
	lines := make([]string, len(t.chunks))
	for i, c := range t.chunks {
		lines[i] = strings.ReplaceAll(c, "\n", " ")
	}
	cmd := exec.Command("espeak-ng", "--stdout", "-b", "1", "-v", t.voice, "-s", "175", "-p", "50")
	cmd.Env = append(os.Environ(), "PULSE_SERVER=unix:/dev/null")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	// Streamed WAV: the header's length is a placeholder, so count bytes.
	n, err := io.Copy(io.Discard, out)
	if err != nil {
		return 0, err
	}
	if err := cmd.Wait(); err != nil {
		return 0, err
	}
	return time.Duration(n-44) * time.Second / (2 * 22050), nil
}

// setVoice sets the library's voice as `espeak-ng -v file` does, at the
// rate and pitch tts.Espeak gives at speed 1, pitch 0.
func setVoice(file string) {
	f := C.CString(file)
	defer C.free(unsafe.Pointer(f))
	if st := C.espeak_ng_SetVoiceByName(f); st != C.ENS_OK {
		log.Fatalf("espeak_ng_SetVoiceByName(%s): status %#x", file, st)
	}
	C.espeak_SetParameter(C.espeakRATE, 175, 0)
	C.espeak_SetParameter(C.espeakPITCH, 50, 0)
}

// cpuTime is the CPU used so far by this process and its waited children.
func cpuTime() time.Duration {
	var s, c syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime) + tv(c.Utime) + tv(c.Stime)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
