package sdp_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// roundTripSeeds are realistic and awkward bodies shared by the round-trip
// test and the fuzz seed corpus.
var roundTripSeeds = []string{
	wvpPlayOffer,
	hikAnswer,
	// lzh2nix-style answer: 9-digit y, LF only.
	"v=0\no=34020000001320000001 0 0 IN IP4 127.0.0.1\ns=Play\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 6000 RTP/AVP 96\na=sendonly\na=rtpmap:96 PS/90000\ny=200000001\n",
	// Download answer with file size and duplicate / unknown lines.
	"v=0\r\no=34020000001310000001 0 0 IN IP4 192.168.1.10\r\ns=Download\r\nu=34020000001310000001:0\r\nc=IN IP4 192.168.1.10\r\nt=1700000000 1700003600\r\nm=video 6000 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=downloadspeed:4\r\na=filesize:1048576\r\ny=1200000002\r\nf=v/2/6/25/2/4096a///\r\n",
	// Invalid y= is preserved verbatim.
	"v=0\no=a 1 1 IN IP4 1.2.3.4\ns=Play\nt=0 0\nm=video 6000 RTP/AVP 96\ny=0x0BEBC201\n",
	// Repeated typed lines and extras.
	"v=0\no=a 1 1 IN IP4 1.2.3.4\ns=\ns=Play\ns=again\nu=\nu=x:1\nv=0\nt=0 0\nt=1 2\nc=IN IP4 1.1.1.1\nc=IN IP4 2.2.2.2\nb=AS:1\na=tool:x\nm=video 6000/2 RTP/AVP\nc=IN IP4 3.3.3.3\nc=bogus\no=x\na=recvonly\na=sendonly\na=stream:1\na=streamnumber:2\na=downloadspeed:0\na=downloadspeed:2\na=downloadspeed:3\na=filesize:9\na=filesize:10\na=connection:new\na=connection:existing\na=rtpmap:bad\na=x:\nm=audio 0 RTP/AVP 8 0\n",
}

func TestRoundTrip(t *testing.T) {
	for _, in := range roundTripSeeds {
		s1, err := sdp.Parse([]byte(in))
		if err != nil && !errors.Is(err, sdp.ErrInvalidSSRC) {
			t.Fatalf("parse %q: %v", in, err)
		}
		out := s1.Marshal()
		s2, err2 := sdp.Parse(out)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("error changed: %v → %v", err, err2)
		}
		if !reflect.DeepEqual(s1, s2) {
			t.Fatalf("round trip of %q\nvia %q\n%#v\n%#v", in, out, s1, s2)
		}
		if out2 := s2.Marshal(); string(out2) != string(out) {
			t.Fatalf("second Marshal differs:\n%q\n%q", out, out2)
		}
	}
}

func TestMarshalInvalidSSRCKept(t *testing.T) {
	s, err := sdp.Parse([]byte(roundTripSeeds[4]))
	if !errors.Is(err, sdp.ErrInvalidSSRC) {
		t.Fatal(err)
	}
	want := "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=Play\r\nt=0 0\r\nm=video 6000 RTP/AVP 96\r\ny=0x0BEBC201\r\n"
	if got := string(s.Marshal()); got != want {
		t.Fatalf("got %q", got)
	}
}
