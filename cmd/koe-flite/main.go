// Command koe-flite speaks for Koe's Flite voices with libflite and the
// voices Debian ships linked in, so one process serves text after text: a
// flite program started for every chunk costs about 14 ms of CPU more than
// the speech (BENCHMARKS.md §17). The server keeps a few of these warm
// (tts.Flite's Helper), as processes of their own: the library serves one
// text at a time in each, and a crash in C costs one chunk, not the server.
//
// It speaks package helperproto on stdin and stdout, at 16,000 Hz, the rate
// of every voice it has; a request is
//
//	{"voice":"slt","duration_stretch":1,"f0_mean":0,"text":"Hello."}
//
// voice is slt, rms, awb or kal16, duration_stretch flite's feature of that
// name (1/speed), f0_mean its int_f0_target_mean in Hz (0: the voice's
// own); the text is spoken literally as one utterance, as `flite -t` does.
// It needs cgo and flite1-dev to build:
//
//	go build -o bin/koe-flite ./cmd/koe-flite
package main

/*
#cgo LDFLAGS: -lflite_cmu_us_slt -lflite_cmu_us_rms -lflite_cmu_us_awb -lflite_cmu_us_kal16 -lflite_usenglish -lflite_cmulex -lflite -lm
#include <stdlib.h>
#include <flite/flite.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
*/
import "C"

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"unsafe"

	"github.com/koe-voice/koe/internal/tts/helperproto"
)

// rate is the sample rate of every voice here.
const rate = 16000

// request is one line of stdin.
type request struct {
	Voice           string  `json:"voice"`
	DurationStretch float64 `json:"duration_stretch"`
	F0Mean          float64 `json:"f0_mean"`
	Text            string  `json:"text"`
}

// voice is a registered voice and its own mean pitch, which a request
// without f0_mean gets back.
type voice struct {
	v      *C.cst_voice
	f0Mean C.float
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("koe-flite: ")
	C.flite_init()
	voices := map[string]voice{}
	for name, register := range map[string]func() *C.cst_voice{
		"slt":   func() *C.cst_voice { return C.register_cmu_us_slt(nil) },
		"rms":   func() *C.cst_voice { return C.register_cmu_us_rms(nil) },
		"awb":   func() *C.cst_voice { return C.register_cmu_us_awb(nil) },
		"kal16": func() *C.cst_voice { return C.register_cmu_us_kal16(nil) },
	} {
		v := register()
		voices[name] = voice{v, C.flite_get_param_float(v.features, featF0Mean, 0)}
	}
	out := helperproto.NewWriter(os.Stdout)
	out.Frame(helperproto.Rate, binary.LittleEndian.AppendUint32(nil, rate))
	helperproto.Serve(os.Stdin, out, func(line []byte) error {
		var r request
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("bad request: %w", err)
		}
		v, ok := voices[r.Voice]
		if !ok {
			return fmt.Errorf("no voice %q", r.Voice)
		}
		// Features stay on the voice: every request sets both.
		C.flite_feat_set_float(v.v.features, featDurationStretch, C.float(r.DurationStretch))
		f0 := v.f0Mean
		if r.F0Mean > 0 {
			f0 = C.float(r.F0Mean)
		}
		C.flite_feat_set_float(v.v.features, featF0Mean, f0)
		text := C.CString(r.Text)
		defer C.free(unsafe.Pointer(text))
		// Clustergen voices (slt, rms, awb) excite unvoiced sounds with
		// rand()'s noise: seeded alike for every text, a text sounds the
		// same however many came before it.
		C.srand(1)
		w := C.flite_text_to_wave(text, v.v)
		if w == nil {
			return errors.New("flite_text_to_wave failed")
		}
		defer C.delete_wave(w)
		if int(w.sample_rate) != rate || w.num_channels != 1 {
			return fmt.Errorf("voice %q spoke %d channels at %d Hz", r.Voice, int(w.num_channels), int(w.sample_rate))
		}
		samples := unsafe.Slice((*byte)(unsafe.Pointer(w.samples)), 2*int(w.num_samples))
		// 100 ms a frame, as koe-espeak sends them.
		for len(samples) > 0 {
			n := min(len(samples), rate/10*2)
			out.Frame(helperproto.Audio, samples[:n])
			samples = samples[n:]
		}
		return nil
	})
}

// The voice features a request sets, as C strings for the life of the
// program.
var (
	featDurationStretch = C.CString("duration_stretch")
	featF0Mean          = C.CString("int_f0_target_mean")
)
