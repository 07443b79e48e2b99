package rtsp

import (
	"bytes"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

var (
	sc4      = []byte{0, 0, 0, 1}
	h264AUD  = []byte{0x09, 0xF0}
	h264SPS  = []byte{0x67, 0x4D, 0x00, 0x1E, 0xAB}
	h264PPS  = []byte{0x68, 0xEE, 0x3C, 0x80}
	h264IDR  = []byte{0x65, 0x88, 0x84, 0x00, 0x21}
	h265AUD  = []byte{0x46, 0x01, 0x50}
	h265VPS  = []byte{0x40, 0x01, 0x0C}
	h265SPS  = []byte{0x42, 0x01, 0x01}
	h265PPS  = []byte{0x44, 0x01, 0xC1}
	h265IDR  = []byte{0x26, 0x01, 0xAF}
	h264Pict = []byte{0x41, 0x9A, 0x02}
)

func annexB(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(b, sc4...)
		b = append(b, n...)
	}
	return b
}

func adts(t *testing.T, n int) []byte {
	t.Helper()
	var pkts mpeg4audio.ADTSPackets
	for i := range n {
		pkts = append(pkts, &mpeg4audio.ADTSPacket{
			Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 16000, ChannelConfig: 1,
			AU: bytes.Repeat([]byte{byte(i + 1)}, 20),
		})
	}
	b, err := pkts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFindParamSets(t *testing.T) {
	tests := []struct {
		name    string
		codec   ps.Codec
		payload []byte
		ok      bool
	}{
		{"h264 keyframe", ps.CodecH264, annexB(h264AUD, h264SPS, h264PPS, h264IDR), true},
		{"h264 without PPS", ps.CodecH264, annexB(h264AUD, h264SPS, h264IDR), false},
		{"h265 keyframe", ps.CodecH265, annexB(h265AUD, h265VPS, h265SPS, h265PPS, h265IDR), true},
		{"h265 without VPS", ps.CodecH265, annexB(h265SPS, h265PPS, h265IDR), false},
		{"garbage", ps.CodecH264, []byte{1, 2, 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := findParamSets(tc.codec, tc.payload)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestTrackPackets(t *testing.T) {
	p, _ := findParamSets(ps.CodecH264, annexB(h264SPS, h264PPS))
	h264, err := newVideoTrack(ps.CodecH264, p)
	if err != nil {
		t.Fatal(err)
	}
	g711, err := newAudioTrack(ps.CodecG711U, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := aacConfig(adts(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SampleRate != 16000 || cfg.ChannelConfig != 1 || cfg.Type != mpeg4audio.ObjectTypeAACLC {
		t.Fatalf("AAC config %+v", cfg)
	}
	aac, err := newAudioTrack(ps.CodecAAC, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pt := g711.media.Formats[0].(*format.G711).PayloadTyp; pt != 0 {
		t.Errorf("µ-law payload type %d, want 0", pt)
	}

	tests := []struct {
		name    string
		tr      *track
		unit    hub.Unit
		packets int
		ts      uint32 // RTP timestamp of the first packet
		params  bool
	}{
		{
			"h264 drops the delimiter", h264,
			hub.Unit{Codec: ps.CodecH264, PTS: 90000, Payload: annexB(h264AUD, h264Pict)},
			1, 90000, false,
		},
		{
			"h264 new parameter sets", h264,
			hub.Unit{
				Codec: ps.CodecH264, PTS: 3600, Keyframe: true,
				Payload: annexB(h264AUD, []byte{0x67, 0x64, 0x00, 0x28}, h264PPS, h264IDR),
			},
			1, 3600, true,
		},
		{"h264 only a delimiter", h264, hub.Unit{Codec: ps.CodecH264, Payload: annexB(h264AUD)}, 0, 0, false},
		{"g711 8 kHz clock", g711, hub.Unit{Codec: ps.CodecG711U, PTS: 90000, Payload: make([]byte, 160)}, 1, 8000, false},
		{"aac two frames", aac, hub.Unit{Codec: ps.CodecAAC, PTS: 90000, Payload: adts(t, 2)}, 1, 16000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkts, params, err := tc.tr.packets(tc.unit)
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != tc.packets || params != tc.params {
				t.Fatalf("%d packets, new params %v; want %d, %v", len(pkts), params, tc.packets, tc.params)
			}
			if len(pkts) > 0 && pkts[0].Timestamp != tc.ts {
				t.Errorf("timestamp %d, want %d", pkts[0].Timestamp, tc.ts)
			}
		})
	}
	if !bytes.Equal(h264.h264Format.SPS, []byte{0x67, 0x64, 0x00, 0x28}) {
		t.Errorf("SPS not updated: %x", h264.h264Format.SPS)
	}
	if _, _, err := aac.packets(hub.Unit{Codec: ps.CodecAAC, Payload: []byte{1, 2, 3}}); err == nil {
		t.Error("bad ADTS accepted")
	}
}

// FuzzTrackPackets: no payload makes a track panic.
func FuzzTrackPackets(f *testing.F) {
	f.Add(annexB(h264AUD, h264SPS, h264PPS, h264IDR), true)
	f.Add(annexB(h265AUD, h265VPS, h265SPS, h265PPS, h265IDR), true)
	f.Add([]byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC, 1, 2}, false)
	f.Fuzz(func(t *testing.T, payload []byte, key bool) {
		p, _ := findParamSets(ps.CodecH264, annexB(h264SPS, h264PPS))
		h264, err := newVideoTrack(ps.CodecH264, p)
		if err != nil {
			t.Fatal(err)
		}
		p, _ = findParamSets(ps.CodecH265, annexB(h265VPS, h265SPS, h265PPS))
		h265, err := newVideoTrack(ps.CodecH265, p)
		if err != nil {
			t.Fatal(err)
		}
		cfg := &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2}
		aac, err := newAudioTrack(ps.CodecAAC, cfg)
		if err != nil {
			t.Fatal(err)
		}
		g711, err := newAudioTrack(ps.CodecG711A, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []*track{h264, h265, aac, g711} {
			_, _, _ = tr.packets(hub.Unit{Codec: tr.codec, PTS: 1234, Keyframe: key, Payload: payload})
		}
		_, _ = aacConfig(payload)
		_, _ = findParamSets(ps.CodecH265, payload)
	})
}
