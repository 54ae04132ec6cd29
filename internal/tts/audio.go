package tts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Duration is how long the audio plays.
func (p PCM) Duration() time.Duration {
	if p.SampleRate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.SampleRate)
}

// EncodeWAV returns p as a WAV file with the canonical 44-byte header.
func EncodeWAV(p PCM) []byte {
	size := 2 * len(p.Samples)
	b := make([]byte, 44, 44+size)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+size))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // integer PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(p.SampleRate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*p.SampleRate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(size))
	for _, s := range p.Samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// DecodeWAV reads a 16-bit integer PCM WAV file, mixing several channels
// down to mono. It accepts the headers that streaming writers such as
// espeak-ng --stdout produce, whose sizes are placeholders: the data chunk
// is then whatever follows its header.
func DecodeWAV(b []byte) (PCM, error) {
	f, data, err := parseWAV(b)
	if err != nil {
		return PCM{}, err
	}
	frames := len(data) / f.blockAlign
	p := PCM{SampleRate: f.sampleRate, Samples: make([]int16, frames)}
	for i := range frames {
		sum := 0
		for c := range f.channels {
			sum += int(int16(binary.LittleEndian.Uint16(data[i*f.blockAlign+2*c:])))
		}
		p.Samples[i] = int16(sum / f.channels)
	}
	return p, nil
}

// ProbeWAV reports the duration and sample rate of a WAV file from its
// header and the length of its data chunk.
func ProbeWAV(b []byte) (durationMs, sampleRate int, err error) {
	f, data, err := parseWAV(b)
	if err != nil {
		return 0, 0, err
	}
	frames := len(data) / f.blockAlign
	return int(int64(frames) * 1000 / int64(f.sampleRate)), f.sampleRate, nil
}

type wavFormat struct {
	channels   int
	sampleRate int
	blockAlign int
}

// parseWAV walks the RIFF chunks and returns the format and the audio
// bytes. A data chunk whose declared size overruns the file (0xFFFFFFFF or
// another placeholder) is taken to run to the end of the file.
func parseWAV(b []byte) (wavFormat, []byte, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return wavFormat{}, nil, errors.New("wav: not a RIFF/WAVE file")
	}
	var f wavFormat
	for rest := b[12:]; len(rest) >= 8; {
		id, size := string(rest[0:4]), int64(binary.LittleEndian.Uint32(rest[4:8]))
		body := rest[8:]
		if size > int64(len(body)) {
			size = int64(len(body))
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return wavFormat{}, nil, errors.New("wav: short fmt chunk")
			}
			tag := binary.LittleEndian.Uint16(body[0:])
			bits := binary.LittleEndian.Uint16(body[14:])
			// 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which wraps the same
			// integer samples.
			if (tag != 1 && tag != 0xFFFE) || bits != 16 {
				return wavFormat{}, nil, fmt.Errorf("wav: format %#x with %d bits per sample, want 16-bit integer PCM", tag, bits)
			}
			f.channels = int(binary.LittleEndian.Uint16(body[2:]))
			f.sampleRate = int(binary.LittleEndian.Uint32(body[4:]))
			f.blockAlign = 2 * f.channels
			if f.channels == 0 || f.sampleRate == 0 {
				return wavFormat{}, nil, errors.New("wav: zero channels or sample rate")
			}
		case "data":
			if f.sampleRate == 0 {
				return wavFormat{}, nil, errors.New("wav: data chunk before fmt chunk")
			}
			return f, body[:size], nil
		}
		// Chunks are padded to an even size.
		next := size + size&1
		if next > int64(len(body)) {
			break
		}
		rest = body[next:]
	}
	return wavFormat{}, nil, errors.New("wav: no data chunk")
}

// Concat joins parts into one stream at the sample rate of the first part,
// resampling the others linearly: a text split across engines may mix
// OpenAI's 24 kHz with espeak-ng's 22,050 Hz.
//
// No silence is inserted between parts. Every engine we use already ends a
// synthesis with a pause (espeak-ng appends about 300 ms after a sentence at
// normal speed, 150 ms after a comma, scaled with the rate), so adding more
// would make chunked text sound slower than the same text spoken whole.
func Concat(parts []PCM) (PCM, error) {
	if len(parts) == 0 {
		return PCM{}, errors.New("concat: no audio")
	}
	out := PCM{SampleRate: parts[0].SampleRate}
	for i, p := range parts {
		if p.SampleRate <= 0 {
			return PCM{}, fmt.Errorf("concat: part %d has sample rate %d", i, p.SampleRate)
		}
		out.Samples = append(out.Samples, resample(p, out.SampleRate).Samples...)
	}
	return out, nil
}

// resample converts p to rate by linear interpolation, which is plenty for
// speech moving between neighbouring rates.
func resample(p PCM, rate int) PCM {
	if p.SampleRate == rate || len(p.Samples) == 0 {
		return p
	}
	n := int(int64(len(p.Samples)) * int64(rate) / int64(p.SampleRate))
	out := PCM{SampleRate: rate, Samples: make([]int16, n)}
	last := len(p.Samples) - 1
	for i := range out.Samples {
		pos := float64(i) * float64(p.SampleRate) / float64(rate)
		j := int(pos)
		if j >= last {
			out.Samples[i] = p.Samples[last]
			continue
		}
		frac := pos - float64(j)
		out.Samples[i] = int16((1-frac)*float64(p.Samples[j]) + frac*float64(p.Samples[j+1]))
	}
	return out
}
