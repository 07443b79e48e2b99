package sdp_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// re-encodes to a body that parses to the same session.
func FuzzParse(f *testing.F) {
	for _, s := range roundTripSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("v=0\no=a 1 1 IN IP4 1.2.3.4\nm=video 65536 RTP/AVP 96\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s1, err := sdp.Parse(b)
		if err != nil && !errors.Is(err, sdp.ErrInvalidSSRC) {
			if s1 != nil {
				t.Fatalf("session returned with error %v", err)
			}
			return
		}
		if s1 == nil {
			t.Fatal("nil session without error")
		}
		out := s1.Marshal()
		s2, err2 := sdp.Parse(out)
		if (err == nil) != (err2 == nil) || (err2 != nil && !errors.Is(err2, sdp.ErrInvalidSSRC)) {
			t.Fatalf("re-parse error %v (first %v) of %q", err2, err, out)
		}
		if !reflect.DeepEqual(s1, s2) {
			t.Fatalf("round trip differs\nin  %q\nout %q\n%#v\n%#v", b, out, s1, s2)
		}
	})
}
