package digestauth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

const realm = "3402000000"

// clientCredentials answers a challenge the way an independent client
// implementation (icholy/digest, which sipgo uses) does.
func clientCredentials(t *testing.T, challenge, uri, password string, count int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: "REGISTER", URI: uri, Username: "34020000001320000001", Password: password, Count: count,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func newNonces(t *testing.T) *Nonces {
	t.Helper()
	n := &Nonces{TTL: time.Minute}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVerifyAgainstIndependentClient(t *testing.T) {
	n := newNonces(t)
	now := time.Unix(1_800_000_000, 0)
	nonce := n.Issue(now)
	for _, uri := range []string{"sip:34020000002000000001@3402000000", "sip:127.0.0.1:5060"} {
		h := clientCredentials(t, Challenge(realm, nonce, false), uri, "12345678", 1)
		c, err := ParseAuthorization(h)
		if err != nil {
			t.Fatal(err)
		}
		if c.URI != uri || c.QOP != "auth" || c.NC != "00000001" {
			t.Fatalf("parsed %+v", c)
		}
		if !c.Verify("REGISTER", "12345678") {
			t.Fatalf("right password rejected for uri %s", uri)
		}
		if c.Verify("REGISTER", "wrong") || c.Verify("INVITE", "12345678") {
			t.Fatal("wrong password or method accepted")
		}
	}
}

func TestRFC2069Form(t *testing.T) {
	// HA1=MD5(user:realm:pw), HA2=MD5(REGISTER:uri), response=MD5(HA1:nonce:HA2).
	c := Credentials{Username: "u", Realm: "r", Nonce: "n", URI: "sip:x"}
	c.Response = md5hex(md5hex("u:r:pw") + ":n:" + md5hex("REGISTER:sip:x"))
	if !c.Verify("REGISTER", "pw") {
		t.Fatal("RFC 2069 response rejected")
	}
	c.Response = strings.ToUpper(c.Response)
	if !c.Verify("REGISTER", "pw") {
		t.Fatal("upper-case hex rejected")
	}
}

func TestNonceUse(t *testing.T) {
	n := newNonces(t)
	t0 := time.Unix(1_800_000_000, 0)
	nonce := n.Issue(t0)
	withNC := func(nc string) Credentials {
		return Credentials{Nonce: nonce, QOP: "auth", NC: nc, CNonce: "c"}
	}
	steps := []struct {
		name string
		c    Credentials
		at   time.Time
		want error
	}{
		{"first use", withNC("00000001"), t0, nil},
		{"replay of nc 1", withNC("00000001"), t0, ErrReplay},
		{"refresh with nc+1", withNC("00000002"), t0.Add(time.Second), nil},
		{"older nc", withNC("00000001"), t0.Add(time.Second), ErrReplay},
		{"nc zero", withNC("00000000"), t0, ErrMalformed},
		{"nc not hex", withNC("zz"), t0, ErrMalformed},
		{"expired", withNC("00000009"), t0.Add(2 * time.Minute), ErrStaleNonce},
		{"forged", Credentials{Nonce: "AAAA" + nonce[4:], QOP: "auth", NC: "1", CNonce: "c"}, t0, ErrBadNonce},
		{"garbage", Credentials{Nonce: "not base64 !", QOP: "auth", NC: "1"}, t0, ErrBadNonce},
	}
	for _, s := range steps {
		if err := n.Use(s.c, s.at); !errors.Is(err, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
	// RFC 2069 form: a nonce is good once.
	other := n.Issue(t0)
	c := Credentials{Nonce: other}
	if err := n.Use(c, t0); err != nil {
		t.Fatal(err)
	}
	if err := n.Use(c, t0); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use without qop: %v", err)
	}
	if err := n.Check(other, t0.Add(2*time.Minute)); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("Check expired: %v", err)
	}
	// Used nonces are forgotten once expired.
	_ = n.Use(Credentials{Nonce: n.Issue(t0.Add(10 * time.Minute))}, t0.Add(10*time.Minute))
	if got := n.Len(); got != 1 {
		t.Fatalf("remembered %d nonces after expiry, want 1", got)
	}
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		in   string
		want error
		user string
	}{
		{`Digest username="34020000001320000001",realm="3402000000",nonce="n",uri="sip:a@b",response="r",algorithm=MD5`, nil, "34020000001320000001"},
		{`digest  username = "u" , realm="r", nonce="n", uri="sip:a", response="r", qop=auth, nc=00000001, cnonce="c"`, nil, "u"},
		{`Digest username="u,with comma",nonce="n",uri="sip:a",response="r"`, nil, "u,with comma"},
		{`Basic dXNlcjpwdw==`, ErrUnsupported, ""},
		{`Digest username="u",nonce="n",uri="sip:a",response="r",algorithm=SHA-256`, ErrUnsupported, ""},
		{`Digest username="u",nonce="n",uri="sip:a",response="r",qop=auth`, ErrMalformed, ""},
		{`Digest username="u",nonce="n",uri="sip:a"`, ErrMalformed, ""},
		{`Digest username="u`, ErrMalformed, ""},
		{`Digest username="u" nonce="n"`, ErrMalformed, ""},
		{`Digest garbage`, ErrMalformed, ""},
		{`Digest ` + strings.Repeat("a", maxHeader), ErrMalformed, ""},
	}
	for _, tt := range tests {
		c, err := ParseAuthorization(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("%.40q: got %v, want %v", tt.in, err, tt.want)
			continue
		}
		if err == nil && c.Username != tt.user {
			t.Errorf("%.40q: username %q", tt.in, c.Username)
		}
	}
}

func TestChallengeParsesBack(t *testing.T) {
	chal, err := digest.ParseChallenge(Challenge(realm, "abc", true))
	if err != nil {
		t.Fatal(err)
	}
	if chal.Realm != realm || chal.Nonce != "abc" || !chal.Stale || !chal.SupportsQOP("auth") {
		t.Fatalf("%+v", chal)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(`Digest username="34020000001320000001",realm="3402000000",nonce="n",uri="sip:a@b",response="r",algorithm=MD5`)
	f.Add(`Digest username="u",realm="r",nonce="n",uri="sip:a",response="r",qop=auth,nc=00000001,cnonce="c"`)
	f.Add(`Digest a=,b="`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
		c.Verify("REGISTER", "pw")
	})
}

func BenchmarkVerify(b *testing.B) {
	n := &Nonces{TTL: time.Minute}
	_ = n.Initialize()
	c := Credentials{
		Username: "34020000001320000001", Realm: realm, Nonce: n.Issue(time.Now()),
		URI: "sip:34020000002000000001@3402000000", QOP: "auth", NC: "00000001", CNonce: "abcdef", Response: "x",
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Verify("REGISTER", "12345678")
	}
}
