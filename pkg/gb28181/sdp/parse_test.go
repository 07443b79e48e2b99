package sdp_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// crlf turns a readable LF literal into wire form.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const wvpPlayOffer = `v=0
o=34020000002000000001 0 0 IN IP4 10.0.0.5
s=Play
c=IN IP4 10.0.0.5
t=0 0
m=video 30000 TCP/RTP/AVP 96 97 98 99
a=recvonly
a=rtpmap:96 PS/90000
a=rtpmap:97 MPEG4/90000
a=rtpmap:98 H264/90000
a=rtpmap:99 H265/90000
a=setup:passive
a=connection:new
y=0200000001
f=
`

const hikAnswer = `v=0
o=34020000001320000001 0 0 IN IP4 192.168.1.64
s=Play
c=IN IP4 192.168.1.64
t=0 0
m=video 15060 TCP/RTP/AVP 96
a=sendonly
a=rtpmap:96 PS/90000
a=setup:active
a=connection:new
a=filesize:0
y=0200000001
f=v/2/5/25/1/4096a/1/8/1
`

func TestParseWVPOffer(t *testing.T) {
	s, err := sdp.Parse([]byte(crlf(wvpPlayOffer)))
	if err != nil {
		t.Fatal(err)
	}
	want := &sdp.Session{
		Origin:     sdp.Origin{Username: "34020000002000000001", SessionID: "0", SessionVersion: "0", NetType: "IN", AddrType: "IP4", Address: "10.0.0.5"},
		Name:       "Play",
		Connection: sdp.Connection{NetType: "IN", AddrType: "IP4", Address: "10.0.0.5"},
		Medias: []*sdp.Media{{
			Type: "video", Port: 30000, Proto: "TCP/RTP/AVP", Formats: []uint8{96, 97, 98, 99},
			Direction:      sdp.DirectionRecvOnly,
			RTPMaps:        sdp.DefaultVideoRTPMaps(),
			Setup:          sdp.SetupPassive,
			ConnectionMode: sdp.ConnectionNew,
		}},
		SSRC:       200000001,
		SSRCStatus: sdp.SSRCValid,
		Format:     &sdp.Format{},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %#v\nwant %#v", s, want)
	}
	if !s.Medias[0].IsTCP() {
		t.Error("IsTCP = false")
	}
	// Marshal reproduces the wire form exactly.
	if got := string(s.Marshal()); got != crlf(wvpPlayOffer) {
		t.Errorf("Marshal:\n%q\nwant\n%q", got, crlf(wvpPlayOffer))
	}
}

func TestParseDeviceAnswer(t *testing.T) {
	// LF-only line endings, as several cameras send.
	s, err := sdp.Parse([]byte(hikAnswer))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Medias[0]
	if s.Connection.Address != "192.168.1.64" || m.Port != 15060 || m.Setup != sdp.SetupActive || m.Direction != sdp.DirectionSendOnly {
		t.Fatalf("unexpected answer: %+v %+v", s, m)
	}
	// filesize:0 is not a size; it stays verbatim.
	if v, ok := m.Attribute("filesize"); !ok || v != "0" || m.FileSize != 0 {
		t.Errorf("filesize:0 = %q %v %d", v, ok, m.FileSize)
	}
	f := s.Format
	wantF := &sdp.Format{
		Raw: "v/2/5/25/1/4096a/1/8/1", VideoCodec: sdp.FormatVideoH264, Resolution: "5", FrameRate: "25",
		RateType: "1", VideoBitrate: "4096", AudioCodec: sdp.FormatAudioG711, AudioBitrate: "8", SampleRate: "1",
	}
	if !reflect.DeepEqual(f, wantF) {
		t.Errorf("f= got %+v", f)
	}
}

func TestParseQuirks(t *testing.T) {
	base := "v=0\no=34020000001320000001 0 0 IN IP4 192.168.1.64\ns=Play\nc=IN IP4 192.168.1.64\nt=0 0\nm=video 6000 RTP/AVP 96\na=sendonly\na=rtpmap:96 PS/90000\n"
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, s *sdp.Session, err error)
	}{
		{"missing y", base, func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.SSRCStatus != sdp.SSRCAbsent || s.Format != nil {
				t.Fatalf("status %v format %v err %v", s.SSRCStatus, s.Format, err)
			}
		}},
		{"9-digit y", base + "y=200000001\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.SSRCStatus != sdp.SSRCValid || s.SSRC.String() != "0200000001" {
				t.Fatalf("ssrc %v %v err %v", s.SSRC, s.SSRCStatus, err)
			}
		}},
		{"non-numeric y", base + "y=abc\nf=\n", func(t *testing.T, s *sdp.Session, err error) {
			if !errors.Is(err, sdp.ErrInvalidSSRC) {
				t.Fatalf("err = %v", err)
			}
			if s == nil || s.SSRCStatus != sdp.SSRCInvalid || s.SSRCRaw != "abc" || s.Format == nil || len(s.Medias) != 1 {
				t.Fatalf("session not complete: %+v", s)
			}
		}},
		{"empty y", base + "y=\n", func(t *testing.T, s *sdp.Session, err error) {
			if !errors.Is(err, sdp.ErrInvalidSSRC) || s.SSRCStatus != sdp.SSRCInvalid {
				t.Fatalf("err = %v", err)
			}
		}},
		{"hex y", base + "y=0BEBC201\n", func(t *testing.T, s *sdp.Session, err error) {
			if !errors.Is(err, sdp.ErrInvalidSSRC) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"second y ignored", base + "y=0200000002\ny=0200000003\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.SSRC != 200000002 {
				t.Fatalf("ssrc %v err %v", s.SSRC, err)
			}
		}},
		{"trailing spaces and CRLF", strings.ReplaceAll(base, "\n", "  \r\n") + "y=0200000002 \t\r\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.Name != "Play" || s.Medias[0].RTPMaps[0].EncodingName != "PS" || s.SSRC != 200000002 {
				t.Fatalf("%+v err %v", s, err)
			}
		}},
		{"BOM and blank lines", "\uFEFF\n\n" + base + "\n\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || len(s.Medias) != 1 {
				t.Fatalf("err %v", err)
			}
		}},
		{"unknown lines kept", "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Play\nb=AS:2048\ni=info\nx=what\nnot a line\nt=0 0\nm=video 6000 RTP/AVP 96\nb=AS:1024\na=fmtp:96 foo=bar\na=x-vendor\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil {
				t.Fatal(err)
			}
			wantExtra := []sdp.Line{{Type: 'b', Value: "AS:2048"}, {Type: 'i', Value: "info"}, {Type: 'x', Value: "what"}}
			if !reflect.DeepEqual(s.Extra, wantExtra) {
				t.Errorf("Extra = %+v", s.Extra)
			}
			m := s.Medias[0]
			if !reflect.DeepEqual(m.Extra, []sdp.Line{{Type: 'b', Value: "AS:1024"}}) {
				t.Errorf("media Extra = %+v", m.Extra)
			}
			wantA := []sdp.Attribute{{Key: "fmtp", Value: "96 foo=bar"}, {Key: "x-vendor"}}
			if !reflect.DeepEqual(m.Attributes, wantA) {
				t.Errorf("Attributes = %+v", m.Attributes)
			}
			if v, ok := m.Attribute("FMTP"); !ok || v != "96 foo=bar" {
				t.Errorf("Attribute(FMTP) = %q %v", v, ok)
			}
		}},
		{"setup values", base + "a=setup:ACTPASS\na=connection:existing\n", func(t *testing.T, s *sdp.Session, err error) {
			m := s.Medias[0]
			if err != nil || m.Setup != sdp.SetupActPass || m.ConnectionMode != sdp.ConnectionExisting {
				t.Fatalf("setup %q conn %q err %v", m.Setup, m.ConnectionMode, err)
			}
		}},
		{"bad setup kept verbatim", base + "a=setup:sideways\n", func(t *testing.T, s *sdp.Session, err error) {
			m := s.Medias[0]
			if err != nil || m.Setup != "" || len(m.Attributes) != 1 || m.Attributes[0].String() != "setup:sideways" {
				t.Fatalf("%+v err %v", m, err)
			}
		}},
		{"repeated typed attributes", base + "a=recvonly\na=setup:active\na=setup:passive\n", func(t *testing.T, s *sdp.Session, err error) {
			m := s.Medias[0]
			want := []sdp.Attribute{{Key: "recvonly"}, {Key: "setup", Value: "passive"}}
			if err != nil || m.Direction != sdp.DirectionSendOnly || m.Setup != sdp.SetupActive || !reflect.DeepEqual(m.Attributes, want) {
				t.Fatalf("%+v err %v", m, err)
			}
		}},
		{"download answer", base + "a=downloadspeed:4\na=filesize:123456789\na=streamprofile:1\n", func(t *testing.T, s *sdp.Session, err error) {
			m := s.Medias[0]
			if err != nil || m.DownloadSpeed != 4 || m.FileSize != 123456789 || m.Stream != (sdp.StreamSelector{Attr: "streamprofile", Number: 1}) {
				t.Fatalf("%+v err %v", m, err)
			}
		}},
		{"media-level c and session attribute", "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Play\nt=0 0\na=setup:active\nm=video 6000 TCP/RTP/AVP 96\nc=IN IP4 5.6.7.8\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.Medias[0].Connection.Address != "5.6.7.8" || !s.Connection.IsZero() {
				t.Fatalf("%+v err %v", s, err)
			}
			if v, ok := s.Attribute("setup"); !ok || v != "active" {
				t.Fatalf("session setup = %q %v", v, ok)
			}
		}},
		{"playback u= and t=", "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Playback\nu=34020000001310000001:3\nt=1700000000 1700003600\nm=video 6000 RTP/AVP 96\n", func(t *testing.T, s *sdp.Session, err error) {
			ch, param, ok := sdp.SplitURI(s.URI)
			if err != nil || ch != "34020000001310000001" || param != "3" || !ok {
				t.Fatalf("u= %q err %v", s.URI, err)
			}
			if s.Time.StartTime().Unix() != 1700000000 || s.Time.StopTime().Unix() != 1700003600 {
				t.Fatalf("t= %+v", s.Time)
			}
		}},
		{"port count and no formats", "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=\nt=0 0\nm=video 6000/2 RTP/AVP\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.Medias[0].PortCount != 2 || len(s.Medias[0].Formats) != 0 {
				t.Fatalf("%+v err %v", s.Medias[0], err)
			}
		}},
		{"no s= and no t=", "v=0\no=a 1 1 IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 8\n", func(t *testing.T, s *sdp.Session, err error) {
			if err != nil || s.Name != "" || s.Time != (sdp.TimeRange{}) || s.Medias[0].Port != 0 {
				t.Fatalf("%+v err %v", s, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sdp.Parse([]byte(tt.in))
			if s == nil {
				t.Fatalf("nil session, err %v", err)
			}
			tt.check(t, s, err)
		})
	}
}

func TestParseErrors(t *testing.T) {
	ok := "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Play\nt=0 0\n"
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", sdp.ErrMissingVersion},
		{"no v", "o=a 1 1 IN IP4 1.2.3.4\ns=Play\n", sdp.ErrMissingVersion},
		{"noise before v", "hello\nv=0\n", sdp.ErrMissingVersion},
		{"v=1", "v=1\no=a 1 1 IN IP4 1.2.3.4\n", sdp.ErrBadVersion},
		{"no o", "v=0\ns=Play\n", sdp.ErrMissingOrigin},
		{"short o", "v=0\no=a 1 1 IN IP4\n", sdp.ErrBadOrigin},
		{"bad c", ok + "c=IN IP4\n", sdp.ErrBadConnection},
		{"bad media c", ok + "m=video 1 RTP/AVP 96\nc=IN\n", sdp.ErrBadConnection},
		{"bad t", "v=0\no=a 1 1 IN IP4 1.2.3.4\nt=now later\n", sdp.ErrBadTime},
		{"t one field", "v=0\no=a 1 1 IN IP4 1.2.3.4\nt=0\n", sdp.ErrBadTime},
		{"short m", ok + "m=video 30000\n", sdp.ErrBadMedia},
		{"port text", ok + "m=video abc RTP/AVP 96\n", sdp.ErrBadPort},
		{"port negative", ok + "m=video -1 RTP/AVP 96\n", sdp.ErrBadPort},
		{"port too big", ok + "m=video 65536 RTP/AVP 96\n", sdp.ErrBadPort},
		{"port count zero", ok + "m=video 6000/0 RTP/AVP 96\n", sdp.ErrBadMedia},
		{"payload type 128", ok + "m=video 6000 RTP/AVP 128\n", sdp.ErrBadMedia},
		{"payload type text", ok + "m=video 6000 RTP/AVP PS\n", sdp.ErrBadMedia},
		{"too large", ok + strings.Repeat("i=x\n", sdp.MaxSize/4), sdp.ErrTooLarge},
		{"too many lines", ok + strings.Repeat("i=x\n", sdp.MaxLines), sdp.ErrTooManyLines},
		{"too many lines with implied s/t", "v=0\no=a 1 1 IN IP4 1.2.3.4\n" + strings.Repeat("i=x\n", sdp.MaxLines-3), sdp.ErrTooManyLines},
		{"too many medias", ok + strings.Repeat("m=video 1 RTP/AVP 96\n", sdp.MaxMedias+1), sdp.ErrTooManyMedias},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sdp.Parse([]byte(tt.in))
			if !errors.Is(err, tt.want) || s != nil {
				t.Fatalf("Parse = %v, %v; want %v", s, err, tt.want)
			}
		})
	}
	// The limits are inclusive.
	if _, err := sdp.Parse([]byte(ok + strings.Repeat("m=video 1 RTP/AVP 96\n", sdp.MaxMedias))); err != nil {
		t.Errorf("MaxMedias medias: %v", err)
	}
	if _, err := sdp.Parse([]byte(ok + strings.Repeat("i=x\n", sdp.MaxLines-4))); err != nil {
		t.Errorf("MaxLines lines: %v", err)
	}
}

func TestSplitURI(t *testing.T) {
	tests := []struct {
		in, ch, param string
		ok            bool
	}{
		{"34020000001310000001:0", "34020000001310000001", "0", true},
		{"34020000001310000001:", "34020000001310000001", "", true},
		{"http://storage/file.mp4", "", "", false},
		{"34020000001310000001", "34020000001310000001", "", false},
	}
	for _, tt := range tests {
		ch, param, ok := sdp.SplitURI(tt.in)
		if ch != tt.ch || param != tt.param || ok != tt.ok {
			t.Errorf("SplitURI(%q) = %q %q %v", tt.in, ch, param, ok)
		}
	}
}

func TestParseEncodedSizeLimit(t *testing.T) {
	// LF-only input just under MaxSize grows past it with CRLF endings.
	head := "v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Play\nt=0 0\n"
	line := strings.Repeat("x", 200)
	var b strings.Builder
	b.WriteString(head)
	for b.Len()+len(line)+4 < sdp.MaxSize {
		b.WriteString("i=" + line + "\n")
	}
	in := b.String()
	if len(in) > sdp.MaxSize {
		t.Fatal("test input too large")
	}
	if _, err := sdp.Parse([]byte(in)); !errors.Is(err, sdp.ErrTooLarge) {
		t.Fatalf("Parse = %v, want ErrTooLarge", err)
	}
}
