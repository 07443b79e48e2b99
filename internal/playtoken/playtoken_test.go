package playtoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestVerify(t *testing.T) {
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	issue := func(c Claims) string {
		tok, err := s.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	live := issue(Claims{Subject: "op1", Paths: []string{"live/34020000001320000001"}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	wild := issue(Claims{Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	old := issue(Claims{Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: now.Add(-time.Minute).Unix()})
	other, _ := NewSigner([]byte(strings.Repeat("x", 32)))
	forged, _ := other.Issue(Claims{Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	// Widening the payload without re-signing must fail.
	parts := strings.Split(live, ".")
	widened := parts[0] + "." + strings.Split(wild, ".")[1] + "." + parts[2]

	cases := []struct {
		name, token, path string
		want              error
	}{
		{"exact", live, "live/34020000001320000001", nil},
		{"other channel", live, "live/34020000001320000002", ErrPath},
		{"wildcard", wild, "live/34020000001320000002", nil},
		{"wildcard is not a prefix match", wild, "livex/1", ErrPath},
		{"playback needs its right", wild, "playback/abc", ErrPath},
		{"expired", old, "live/1", ErrExpired},
		{"forged", forged, "live/1", ErrSignature},
		{"widened", widened, "live/1", ErrSignature},
		{"empty", "", "live/1", ErrMalformed},
		{"garbage", "v1.!!!.???", "live/1", ErrMalformed},
		{"no signature", "v1.abc", "live/1", ErrMalformed},
		{"huge", "v1." + strings.Repeat("a", 5000) + ".x", "live/1", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Verify(c.token, c.path, now)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	pb := issue(Claims{Paths: []string{"playback/*"}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	if _, err := s.Verify(pb, "playback/abc", now); !errors.Is(err, ErrRight) {
		t.Fatalf("playback with only the live right: %v", err)
	}
	// Within the leeway an expired token still passes (clock skew).
	if _, err := s.Verify(old, "live/1", now.Add(-40*time.Second)); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	c, err := s.Verify(live, "live/34020000001320000001", now)
	if err != nil || c.Subject != "op1" {
		t.Fatalf("claims %+v %v", c, err)
	}
}

func TestIssueAndSecret(t *testing.T) {
	if _, err := NewSigner([]byte("short")); !errors.Is(err, ErrSecret) {
		t.Fatalf("short secret: %v", err)
	}
	s, _ := NewSigner(secret)
	if _, err := s.Issue(Claims{Paths: []string{"live/1"}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("issue without rights: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	s, _ := NewSigner(secret)
	tok, _ := s.Issue(Claims{Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: 1 << 40})
	f.Add(tok)
	f.Add("v1..")
	f.Add("v1.e30.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token, "live/1", time.Unix(0, 0))
		if err == nil && !c.Allows("live/1") {
			t.Fatalf("accepted a token that does not allow the path: %+v", c)
		}
	})
}
