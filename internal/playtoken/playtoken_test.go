package playtoken

import (
	"bytes"
	"encoding/base64"
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
	// The recorder's VOD of a channel needs the playback right, not live.
	rec := "recording/34020000001320000001"
	liveRec := issue(Claims{Paths: []string{rec}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	if _, err := s.Verify(liveRec, rec, now); !errors.Is(err, ErrRight) {
		t.Fatalf("recording with only the live right: %v", err)
	}
	pbRec := issue(Claims{Paths: []string{rec}, Rights: []string{RightPlayback}, Expires: now.Add(time.Minute).Unix()})
	if _, err := s.Verify(pbRec, rec, now); err != nil {
		t.Fatalf("recording with the playback right: %v", err)
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

// flipPaddingBit returns part with the lowest bit of its last character
// flipped: for a part whose length leaves unused bits in that character,
// a lax decoder reads the same bytes from both spellings.
func flipPaddingBit(t *testing.T, part string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, part[len(part)-1])
	out := part[:len(part)-1] + string(alphabet[last^1])
	a, errA := base64.RawURLEncoding.DecodeString(part)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%q and %q do not decode alike without Strict: %v %v", part, out, errA, errB)
	}
	return out
}

// TestOneSpelling: a token is accepted only in the exact text it was
// issued with.
func TestOneSpelling(t *testing.T) {
	s, _ := NewSigner(secret)
	now := time.Unix(1_800_000_000, 0)
	// 67 bytes of JSON: 90 characters of payload, whose last one has 4
	// unused bits (a multiple of 3 bytes would leave none to flip).
	tok, err := s.Issue(Claims{Subject: "op1", Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: now.Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok, "live/1", now); err != nil {
		t.Fatalf("issued token refused: %v", err)
	}
	parts := strings.Split(tok, ".")
	if len(parts[1])%4 == 0 {
		t.Fatalf("payload %q has no unused bits: choose claims of another length", parts[1])
	}
	// A 32-byte HMAC is 43 characters: 2 unused bits in the last one.
	sig := flipPaddingBit(t, parts[2])
	cases := []struct {
		name, token string
		want        error
	}{
		{"signature padding bits", parts[0] + "." + parts[1] + "." + sig, ErrMalformed},
		{"newline in signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], ErrMalformed},
		{"carriage return in payload", parts[0] + "." + parts[1][:5] + "\r" + parts[1][5:] + "." + parts[2], ErrMalformed},
		{"padding character", tok + "=", ErrMalformed},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(tok), ErrMalformed},
		{"third dot", tok + ".", ErrMalformed},
		// The payload's own padding bits change the signed text: refused too.
		{"payload padding bits", parts[0] + "." + flipPaddingBit(t, parts[1]) + "." + parts[2], ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.token == tok {
				t.Skip("the spelling did not change (no such character in this token)")
			}
			if _, err := s.Verify(c.token, "live/1", now); !errors.Is(err, c.want) {
				t.Fatalf("Verify(%q) = %v, want %v", c.token, err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	s, _ := NewSigner(secret)
	tok, _ := s.Issue(Claims{Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: 1 << 40})
	f.Add(tok)
	f.Add(tok[:len(tok)-1] + "B")
	f.Add(tok[:20] + "\n" + tok[20:])
	f.Add("v1..")
	f.Add("v1.e30.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token, "live/1", time.Unix(0, 0))
		if err != nil {
			return
		}
		if !c.Allows("live/1") {
			t.Fatalf("accepted a token that does not allow the path: %+v", c)
		}
		// An accepted token is in its one canonical spelling.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q with %d parts", token, len(parts))
		}
		for _, p := range parts[1:] {
			raw, err := base64.RawURLEncoding.DecodeString(p)
			if err != nil || base64.RawURLEncoding.EncodeToString(raw) != p {
				t.Fatalf("accepted a non-canonical part %q of %q", p, token)
			}
		}
	})
}

func TestRevocable(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Claims
		want bool
	}{
		{"a user's", Claims{Subject: "olga", IssuedAt: 1}, true},
		{"a service's", Claims{Subject: "recorder", Service: true}, false},
		{"auth off (no subject)", Claims{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Revocable(); got != tc.want {
				t.Fatalf("Revocable = %v, want %v", got, tc.want)
			}
		})
	}
	// The mark survives the signature.
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Issue(Claims{Subject: "recorder", Service: true, Paths: []string{"live/*"}, Rights: []string{RightLive}, Expires: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Parse(tok, time.Unix(0, 0))
	if err != nil || !c.Service || c.Revocable() {
		t.Fatalf("parsed %+v %v", c, err)
	}
}
