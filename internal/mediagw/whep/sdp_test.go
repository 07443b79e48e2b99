package whep

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// chromeOffer is the media part of a Chromium WHEP offer, trimmed.
const chromeOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125\r\n" +
	"c=IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\na=mid:0\r\na=recvonly\r\n" +
	"a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n" +
	"a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n" +
	"a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n" +
	"a=rtpmap:108 H264/90000\r\na=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n" +
	"a=rtpmap:127 H264/90000\r\na=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n" +
	"a=rtpmap:125 H264/90000\r\na=fmtp:125 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"

func TestParseOffer(t *testing.T) {
	o, err := parseOffer(chromeOffer)
	if err != nil {
		t.Fatal(err)
	}
	var pts []uint8
	for _, f := range o.h264 {
		pts = append(pts, f.payloadType)
	}
	if !reflect.DeepEqual(pts, []uint8{102, 106, 127, 125}) {
		t.Errorf("H.264 packetization-mode=1 payload types %v", pts)
	}
	if o.ufrag != "EsAw" {
		t.Errorf("ufrag %q", o.ufrag)
	}
	// PCMA 8 has no rtpmap: its static name applies.
	if o.pcma == nil || o.pcma.payloadType != 8 || o.pcmu == nil || o.pcmu.payloadType != 0 {
		t.Errorf("G.711 formats %+v %+v", o.pcma, o.pcmu)
	}
	for _, bad := range []string{"", "hello", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"} {
		if _, err := parseOffer(bad); !errors.Is(err, ErrBadOffer) {
			t.Errorf("parseOffer(%q): %v, want ErrBadOffer", bad, err)
		}
	}
}

func TestChooseH264(t *testing.T) {
	o, err := parseOffer(chromeOffer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		plid string
		want uint8
	}{
		{"constrained baseline stream", "42e01e", 106},
		{"baseline stream", "420028", 102},
		{"main stream", "4d4028", 127},
		{"high stream", "640032", 125},
		{"high 10 stream: constrained baseline", "6e0032", 106},
		{"unknown profile: constrained baseline", "", 106},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := chooseH264(o.h264, tc.plid)
			if !ok || f.payloadType != tc.want {
				t.Fatalf("chose %d (%v), want %d", f.payloadType, ok, tc.want)
			}
		})
	}
	if _, ok := chooseH264(nil, "42e01f"); ok {
		t.Fatal("chose a format among none")
	}
}

func TestParseSDPFrag(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    sdpFrag
		wantErr bool
	}{
		{
			name: "RFC 8840 example",
			in: "a=ice-options:trickle ice2\r\na=group:BUNDLE 0 1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n" +
				"a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" +
				"a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n" +
				"a=end-of-candidates\r\n",
			want: sdpFrag{
				Ufrag: "EsAw", Pwd: "P2uYro0UCOQ4zxjKXaWCBui1", EndOfCandidates: true,
				Candidates: []fragCandidate{{
					Candidate: "candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0",
					Mid:       "0", MLineIndex: 0,
				}},
			},
		},
		{
			name: "two sections, LF only",
			in:   "m=video 9 RTP/AVP 96\na=mid:v\na=candidate:1 1 udp 1 10.0.0.1 1 typ host\nm=audio 9 RTP/AVP 0\na=mid:a\na=candidate:2 1 udp 1 10.0.0.1 2 typ host\n",
			want: sdpFrag{Candidates: []fragCandidate{
				{Candidate: "candidate:1 1 udp 1 10.0.0.1 1 typ host", Mid: "v", MLineIndex: 0},
				{Candidate: "candidate:2 1 udp 1 10.0.0.1 2 typ host", Mid: "a", MLineIndex: 1},
			}},
		},
		{
			name: "candidate before any section",
			in:   "a=candidate:1 1 udp 1 10.0.0.1 1 typ host",
			want: sdpFrag{Candidates: []fragCandidate{{Candidate: "candidate:1 1 udp 1 10.0.0.1 1 typ host", MLineIndex: -1}}},
		},
		{name: "empty", in: "", want: sdpFrag{}},
		{name: "not SDP", in: "hello world", wantErr: true},
		{name: "upper-case type", in: "A=candidate:1", wantErr: true},
		{name: "empty candidate", in: "a=candidate:  \r\n", wantErr: true},
		{name: "too many lines", in: strings.Repeat("a=x\n", maxFragLines+1), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSDPFrag([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrBadSDPFrag) {
					t.Fatalf("err %v, want ErrBadSDPFrag", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseSDPFrag(f *testing.F) {
	f.Add([]byte("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n" +
		"a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\na=end-of-candidates\r\n"))
	f.Add([]byte("a=candidate:1 1 udp 1 10.0.0.1 1 typ host\n"))
	f.Add([]byte("m=\nm=\na=mid:\na=candidate:x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		frag, err := parseSDPFrag(b)
		if err != nil {
			if !errors.Is(err, ErrBadSDPFrag) {
				t.Fatalf("error %v is not ErrBadSDPFrag", err)
			}
			return
		}
		for _, c := range frag.Candidates {
			if !strings.HasPrefix(c.Candidate, "candidate:") || strings.ContainsAny(c.Candidate, "\n") ||
				c.MLineIndex < -1 || strings.ContainsAny(c.Mid, "\n") {
				t.Fatalf("bad candidate %+v", c)
			}
		}
	})
}

func FuzzParseOffer(f *testing.F) {
	f.Add(chromeOffer)
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000/x\r\na=fmtp:96 packetization-mode=1;profile-level-id=zz\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseOffer(s)
		if err != nil {
			if !errors.Is(err, ErrBadOffer) {
				t.Fatalf("error %v is not ErrBadOffer", err)
			}
			return
		}
		for _, plid := range []string{"", "42e01f", "640032"} {
			if f, ok := chooseH264(o.h264, plid); ok != (len(o.h264) > 0) || (ok && f.clockRate != 90000) {
				t.Fatalf("chooseH264 %+v %v", f, ok)
			}
		}
	})
}
