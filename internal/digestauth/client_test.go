package digestauth

import "testing"

// TestAnswer: the client side answers qop=auth and RFC 2069 challenges so
// that the server side verifies them, counts nonces up, and a wrong
// password does not verify.
func TestAnswer(t *testing.T) {
	const uri = "sip:34020000002000000009@3402000000"
	for _, tc := range []struct {
		name      string
		challenge string
		qop       string
	}{
		{"qop=auth", Challenge(realm, "n1", false), "auth"},
		{"RFC 2069", `Digest realm="` + realm + `", nonce="n2", algorithm=MD5`, ""},
		{"stale", Challenge(realm, "n3", true), "auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAnswer(tc.challenge)
			if err != nil {
				t.Fatal(err)
			}
			if a.Stale() != (tc.name == "stale") {
				t.Fatalf("stale %v", a.Stale())
			}
			for nc := 1; nc <= 2; nc++ {
				h, err := a.Authorization("REGISTER", uri, "34020000002000000001", "s3cret")
				if err != nil {
					t.Fatal(err)
				}
				c, err := ParseAuthorization(h)
				if err != nil {
					t.Fatalf("%s: %v", h, err)
				}
				if c.QOP != tc.qop || (tc.qop != "" && c.NC != []string{"", "00000001", "00000002"}[nc]) {
					t.Fatalf("qop %q nc %q in %s", c.QOP, c.NC, h)
				}
				if !c.Verify("REGISTER", "s3cret") || c.Verify("REGISTER", "wrong") || c.URI != uri {
					t.Fatalf("verification of %s", h)
				}
			}
		})
	}
	if _, err := NewAnswer("Basic realm=x"); err == nil {
		t.Fatal("a Basic challenge was taken")
	}
}
