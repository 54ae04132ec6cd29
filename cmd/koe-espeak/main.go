// Command koe-espeak speaks for Koe's espeak-ng voices with libespeak-ng
// linked in, so one process serves request after request: starting an
// espeak-ng program for every chunk costs 25–45 ms of CPU, more than
// speaking a short chunk (BENCHMARKS.md §15, §17). The server keeps a few
// of these warm (tts.Espeak's Helper) and runs them as separate processes,
// so the library, which is not thread-safe, serves one request at a time
// in each, and a crash in C costs one request, not the server.
//
// Protocol, on stdin and stdout. At start it writes a frame 'R' whose
// payload is the sample rate (uint32). Then it reads requests, one JSON
// object a line:
//
//	{"voice":"gmw/en-US","rate":175,"pitch":50,"text":"Hello."}
//
// voice is the voice file as `espeak-ng -v` takes it, rate words per
// minute, pitch 0–99; the text is spoken literally (no SSML), as UTF-8.
// For each it writes frames 'A' of samples (mono, 16-bit little-endian) as
// the library makes them, then one frame 'E' (empty) when the text is
// spoken, or 'X' with a message when it could not be. A frame is its kind
// (one byte), its payload's length (uint32 little-endian) and the payload.
// It exits when stdin closes.
//
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
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"unsafe"
)

// request is one line of stdin.
type request struct {
	Voice string `json:"voice"`
	Rate  int    `json:"rate"`
	Pitch int    `json:"pitch"`
	Text  string `json:"text"`
}

// out is stdout. The library calls koeSamples on the thread of
// espeak_Synth (AUDIO_OUTPUT_SYNCHRONOUS), so only main's goroutine writes.
var (
	out    = bufio.NewWriterSize(os.Stdout, 64<<10)
	outErr error
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("koe-espeak: ")
	// 100 ms of audio a callback: the server hears the first words soon.
	rate := C.espeak_Initialize(C.AUDIO_OUTPUT_SYNCHRONOUS, 100, nil, 0)
	if rate <= 0 {
		log.Fatal("espeak_Initialize failed")
	}
	C.espeak_SetSynthCallback((*C.t_espeak_callback)(C.koeSamples))
	frame('R', binary.LittleEndian.AppendUint32(nil, uint32(rate)))
	flush()

	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	voice := ""
	for {
		line, err := in.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return
		}
		if err != nil && err != io.EOF {
			log.Fatal(err)
		}
		var r request
		if err := json.Unmarshal(line, &r); err != nil {
			fail(fmt.Sprintf("bad request: %v", err))
			continue
		}
		if r.Voice != voice {
			// Setting a voice loads its files: only when it changes.
			v := C.CString(r.Voice)
			st := C.espeak_ng_SetVoiceByName(v)
			C.free(unsafe.Pointer(v))
			if st != C.ENS_OK {
				voice = ""
				fail(fmt.Sprintf("voice %q: status %#x", r.Voice, uint32(st)))
				continue
			}
			voice = r.Voice
		}
		C.espeak_SetParameter(C.espeakRATE, C.int(r.Rate), 0)
		C.espeak_SetParameter(C.espeakPITCH, C.int(r.Pitch), 0)
		text := C.CString(r.Text)
		st := C.espeak_Synth(unsafe.Pointer(text), C.size_t(len(r.Text)+1), 0, C.POS_CHARACTER, 0,
			C.espeakCHARS_UTF8|C.espeakENDPAUSE, nil, nil)
		C.free(unsafe.Pointer(text))
		if outErr != nil {
			log.Fatal(outErr) // the server is gone
		}
		if st != C.EE_OK {
			fail(fmt.Sprintf("espeak_Synth: error %d", int(st)))
			continue
		}
		frame('E', nil)
		flush()
	}
}

//export koeSamples
func koeSamples(wav *C.short, n C.int, _ *C.espeak_EVENT) C.int {
	if wav != nil && n > 0 {
		frame('A', unsafe.Slice((*byte)(unsafe.Pointer(wav)), 2*int(n)))
		flush()
	}
	if outErr != nil {
		return 1 // stop speaking
	}
	return 0
}

// frame writes one frame; the first error is kept in outErr.
func frame(kind byte, payload []byte) {
	if outErr != nil {
		return
	}
	var head [5]byte
	head[0] = kind
	binary.LittleEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, outErr = out.Write(head[:]); outErr == nil {
		_, outErr = out.Write(payload)
	}
}

func flush() {
	if outErr == nil {
		outErr = out.Flush()
	}
}

// fail answers a request with an error.
func fail(msg string) {
	frame('X', []byte(msg))
	flush()
	if outErr != nil {
		log.Fatal(outErr)
	}
}
