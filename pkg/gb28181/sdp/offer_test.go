package sdp_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

var testEndpoint = sdp.Endpoint{ID: "34020000002000000001", IP: "10.0.0.5", Port: 30000}

func TestOfferGolden(t *testing.T) {
	start := time.Unix(1700000000, 0)
	end := time.Unix(1700003600, 0)
	tests := []struct {
		name  string
		build func() (*sdp.Session, error)
		want  string
	}{
		{"play UDP", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 200000001)
		}, `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Play
c=IN IP4 10.0.0.5
t=0 0
m=video 30000 RTP/AVP 96 97 98 99
a=recvonly
a=rtpmap:96 PS/90000
a=rtpmap:97 MPEG4/90000
a=rtpmap:98 H264/90000
a=rtpmap:99 H265/90000
y=0200000001
f=
`},
		{"play TCP passive substream", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 200000001, sdp.WithTransport(sdp.TransportTCPPassive), sdp.WithStreamNumber(1))
		}, wvpPlayOffer[:len(wvpPlayOffer)-len("y=0200000001\nf=\n")] + "a=streamnumber:1\ny=0200000001\nf=\n"},
		{"play TCP active vendor stream attribute, PS only", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 200000002,
				sdp.WithTransport(sdp.TransportTCPActive),
				sdp.WithStreamAttribute("streamprofile", 0),
				sdp.WithRTPMaps(sdp.RTPMap{PayloadType: 96, EncodingName: "PS", ClockRate: 90000}))
		}, `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Play
c=IN IP4 10.0.0.5
t=0 0
m=video 30000 TCP/RTP/AVP 96
a=recvonly
a=rtpmap:96 PS/90000
a=setup:active
a=connection:new
a=streamprofile:0
y=0200000002
f=
`},
		{"playback", func() (*sdp.Session, error) {
			return sdp.NewPlaybackOffer(testEndpoint, 1200000002, "34020000001310000001", start, end)
		}, `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Playback
u=34020000001310000001:0
c=IN IP4 10.0.0.5
t=1700000000 1700003600
m=video 30000 RTP/AVP 96 97 98 99
a=recvonly
a=rtpmap:96 PS/90000
a=rtpmap:97 MPEG4/90000
a=rtpmap:98 H264/90000
a=rtpmap:99 H265/90000
y=1200000002
f=
`},
		{"download IPv6 param 3", func() (*sdp.Session, error) {
			ep := testEndpoint
			ep.IP = "2001:db8::1"
			return sdp.NewDownloadOffer(ep, 1200000003, "34020000001310000001", start, end, 4,
				sdp.WithURIParam("3"), sdp.WithRTPMaps(sdp.RTPMap{PayloadType: 96, EncodingName: "PS", ClockRate: 90000}))
		}, `v=0
o=34020000002000000001 0 0 IN IP6 2001:db8::1
s=Download
u=34020000001310000001:3
c=IN IP6 2001:db8::1
t=1700000000 1700003600
m=video 30000 RTP/AVP 96
a=recvonly
a=rtpmap:96 PS/90000
a=downloadspeed:4
y=1200000003
f=
`},
		{"talk", func() (*sdp.Session, error) {
			return sdp.NewTalkOffer(testEndpoint, 200000004)
		}, `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Talk
c=IN IP4 10.0.0.5
t=0 0
m=audio 30000 TCP/RTP/AVP 8
a=sendrecv
a=rtpmap:8 PCMA/8000
a=setup:passive
a=connection:new
y=0200000004
f=v/////a/1/8/1
`},
		{"talk UDP", func() (*sdp.Session, error) {
			return sdp.NewTalkOffer(testEndpoint, 200000004, sdp.WithTransport(sdp.TransportUDP))
		}, `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Talk
c=IN IP4 10.0.0.5
t=0 0
m=audio 30000 RTP/AVP 8
a=sendrecv
a=rtpmap:8 PCMA/8000
y=0200000004
f=v/////a/1/8/1
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			got := string(s.Marshal())
			if got != crlf(tt.want) {
				t.Fatalf("got\n%s\nwant\n%s", got, crlf(tt.want))
			}
			// What we send, we can read back identically.
			back, err := sdp.Parse([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Fatalf("parse(marshal) differs:\n%#v\n%#v", back, s)
			}
		})
	}
}

func TestOfferValidation(t *testing.T) {
	start := time.Unix(1700000000, 0)
	end := start.Add(time.Hour)
	ep := func(f func(*sdp.Endpoint)) sdp.Endpoint {
		e := testEndpoint
		f(&e)
		return e
	}
	tests := []struct {
		name  string
		build func() (*sdp.Session, error)
	}{
		{"empty ID", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.ID = "" }), 1)
		}},
		{"ID with space", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.ID = "3402 0001" }), 1)
		}},
		{"hostname", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.IP = "media.local" }), 1)
		}},
		{"zoned IP", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.IP = "fe80::1%eth0" }), 1)
		}},
		{"port 0", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.Port = 0 }), 1)
		}},
		{"port 65536", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(ep(func(e *sdp.Endpoint) { e.Port = 65536 }), 1)
		}},
		{"no rtpmaps", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithRTPMaps())
		}},
		{"bad rtpmap", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithRTPMaps(sdp.RTPMap{PayloadType: 200, EncodingName: "PS", ClockRate: 90000}))
		}},
		{"rtpmap name with slash", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithRTPMaps(sdp.RTPMap{PayloadType: 96, EncodingName: "P/S", ClockRate: 90000}))
		}},
		{"bad transport", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithTransport(sdp.Transport(9)))
		}},
		{"negative stream", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithStreamNumber(-1))
		}},
		{"stream attr with colon", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithStreamAttribute("a:b", 1))
		}},
		{"stream attr with space", func() (*sdp.Session, error) {
			return sdp.NewPlayOffer(testEndpoint, 1, sdp.WithStreamAttribute("a b", 1))
		}},
		{"playback no channel", func() (*sdp.Session, error) {
			return sdp.NewPlaybackOffer(testEndpoint, 1, "", start, end)
		}},
		{"playback bad param", func() (*sdp.Session, error) {
			return sdp.NewPlaybackOffer(testEndpoint, 1, "34020000001310000001", start, end, sdp.WithURIParam("0\r\nx=1"))
		}},
		{"playback reversed", func() (*sdp.Session, error) {
			return sdp.NewPlaybackOffer(testEndpoint, 1, "34020000001310000001", end, start)
		}},
		{"playback before 1970", func() (*sdp.Session, error) {
			return sdp.NewPlaybackOffer(testEndpoint, 1, "34020000001310000001", time.Unix(-5, 0), end)
		}},
		{"download speed 0", func() (*sdp.Session, error) {
			return sdp.NewDownloadOffer(testEndpoint, 1, "34020000001310000001", start, end, 0)
		}},
		{"download reversed", func() (*sdp.Session, error) {
			return sdp.NewDownloadOffer(testEndpoint, 1, "34020000001310000001", end, start, 1)
		}},
		{"talk bad IP", func() (*sdp.Session, error) {
			return sdp.NewTalkOffer(ep(func(e *sdp.Endpoint) { e.IP = "" }), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.build()
			if !errors.Is(err, sdp.ErrInvalidOffer) || s != nil {
				t.Fatalf("got %v, %v; want ErrInvalidOffer", s, err)
			}
		})
	}
}

func TestTransportString(t *testing.T) {
	for tr, want := range map[sdp.Transport]string{
		sdp.TransportUDP: "UDP", sdp.TransportTCPPassive: "TCP-PASSIVE", sdp.TransportTCPActive: "TCP-ACTIVE", 7: "Transport(7)",
	} {
		if tr.String() != want {
			t.Errorf("%d: %q", int(tr), tr.String())
		}
	}
	if sdp.TransportUDP.IsTCP() || !sdp.TransportTCPActive.IsTCP() {
		t.Error("IsTCP")
	}
}
