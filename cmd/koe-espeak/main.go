// Command koe-espeak speaks for Koe's espeak-ng voices with libespeak-ng
// linked in, so one process serves text after text: starting an espeak-ng
// program for every chunk costs 25–45 ms of CPU, more than speaking a short
// chunk (BENCHMARKS.md §15, §17). The server keeps a few of these warm
// (tts.Espeak's Helper) and runs them as processes of their own, so the
// library, which is not thread-safe, serves one text at a time in each, and
// a crash in C costs one chunk, not the server.
//
// It speaks package helperproto on stdin and stdout; a request is
//
//	{"voice":"gmw/en-US","rate":175,"pitch":50,"text":"Hello."}
//
// voice is the voice file as `espeak-ng -v` takes it, rate words per
// minute, pitch 0–99; the text is spoken literally (no SSML), as UTF-8.
// It needs cgo and libespeak-ng-dev to build:
//
//	go build -o bin/koe-espeak ./cmd/koe-espeak
package main

/*
#cgo LDFLAGS: -lespeak-ng
#include <stdlib.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

extern int koeSamples(short *wav, int n, espeak_EVENT *events);
*/
import "C"

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"unsafe"

	"github.com/koe-voice/koe/internal/tts/helperproto"
)

// request is one line of stdin.
type request struct {
	Voice string `json:"voice"`
	Rate  int    `json:"rate"`
	Pitch int    `json:"pitch"`
	Text  string `json:"text"`
}

// out is stdout. The library calls koeSamples on the thread of
// espeak_Synth (AUDIO_OUTPUT_SYNCHRONOUS), so only one goroutine writes.
var out = helperproto.NewWriter(os.Stdout)

func main() {
	log.SetFlags(0)
	log.SetPrefix("koe-espeak: ")
	// libespeak-ng connects to PulseAudio even when it only hands samples
	// back, and libpulse, finding no server, leaves a new $TMPDIR/pulse-XXXX
	// behind on every start; as for the espeak-ng program (tts.espeakEnv),
	// a server address that is none makes it give up first.
	if err := os.Setenv("PULSE_SERVER", "unix:/dev/null"); err != nil {
		log.Fatal(err)
	}
	// 100 ms of audio a callback: the server hears the first words soon.
	rate := C.espeak_Initialize(C.AUDIO_OUTPUT_SYNCHRONOUS, 100, nil, 0)
	if rate <= 0 {
		log.Fatal("espeak_Initialize failed")
	}
	C.espeak_SetSynthCallback((*C.t_espeak_callback)(C.koeSamples))
	out.Frame(helperproto.Rate, binary.LittleEndian.AppendUint32(nil, uint32(rate)))
	voice := ""
	helperproto.Serve(os.Stdin, out, func(line []byte) error {
		var r request
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("bad request: %w", err)
		}
		if r.Voice != voice {
			// Setting a voice loads its files: only when it changes.
			v := C.CString(r.Voice)
			st := C.espeak_ng_SetVoiceByName(v)
			C.free(unsafe.Pointer(v))
			if st != C.ENS_OK {
				voice = ""
				return fmt.Errorf("voice %q: status %#x", r.Voice, uint32(st))
			}
			voice = r.Voice
		}
		C.espeak_SetParameter(C.espeakRATE, C.int(r.Rate), 0)
		C.espeak_SetParameter(C.espeakPITCH, C.int(r.Pitch), 0)
		text := C.CString(r.Text)
		defer C.free(unsafe.Pointer(text))
		if st := C.espeak_Synth(unsafe.Pointer(text), C.size_t(len(r.Text)+1), 0, C.POS_CHARACTER, 0,
			C.espeakCHARS_UTF8|C.espeakENDPAUSE, nil, nil); st != C.EE_OK {
			return fmt.Errorf("espeak_Synth: error %d", int(st))
		}
		return nil
	})
}

//export koeSamples
func koeSamples(wav *C.short, n C.int, _ *C.espeak_EVENT) C.int {
	if wav != nil && n > 0 {
		out.Frame(helperproto.Audio, unsafe.Slice((*byte)(unsafe.Pointer(wav)), 2*int(n)))
	}
	if out.Err != nil {
		return 1 // stop speaking: Serve exits
	}
	return 0
}
