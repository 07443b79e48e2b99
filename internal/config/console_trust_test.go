package config_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
)

func TestConsoleTrustDefaults(t *testing.T) {
	var c config.Console
	c.SetDefaults()
	if !c.Audit.FailClosed || c.Auth.IPMaxFailures != 30 || c.Auth.IPWindow.Std() != 15*time.Minute || c.Auth.TrustedProxies != "" {
		t.Errorf("defaults: audit %+v, auth %+v", c.Audit, c.Auth)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       []string
	}{
		{
			"list", "auth:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, '2001:db8::/32']\n", nil,
			[]string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"},
		},
		{"string", "auth:\n  trusted_proxies: '127.0.0.1, 172.16.1.0/24'\n", nil, []string{"127.0.0.1/32", "172.16.1.0/24"}},
		{"masked", "auth:\n  trusted_proxies: [10.1.2.3/8]\n", nil, []string{"10.0.0.0/8"}},
		{"empty list", "auth:\n  trusted_proxies: []\n", nil, nil},
		{"env", "", []string{"SHARPEYES_AUTH_TRUSTED_PROXIES=10.0.0.1,10.0.0.2"}, []string{"10.0.0.1/32", "10.0.0.2/32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, tc.yaml)
			}
			var c config.Console
			if _, err := config.Load(path, &c, tc.env); err != nil {
				t.Fatal(err)
			}
			ps, err := c.Auth.TrustedProxies.Prefixes()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("prefixes %v, want %v", got, tc.want)
			}
			// -print-config's output loads again to the same value.
			var buf bytes.Buffer
			if err := config.Print(&buf, &c); err != nil {
				t.Fatal(err)
			}
			var again config.Console
			if _, err := config.Load(writeFile(t, buf.String()), &again, nil); err != nil {
				t.Fatalf("reload printed config: %v\n%s", err, buf.String())
			}
			if again.Auth.TrustedProxies != c.Auth.TrustedProxies {
				t.Errorf("printed %q, reloaded %q", c.Auth.TrustedProxies, again.Auth.TrustedProxies)
			}
		})
	}
}

func TestConsoleTrustErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"proxy not an address", "auth:\n  trusted_proxies: [proxy.local]\n", "auth.trusted_proxies"},
		{"proxy bad prefix", "auth:\n  trusted_proxies: 10.0.0.0/33\n", "auth.trusted_proxies"},
		{"ip max failures", "auth:\n  ip_max_failures: 0\n", "auth.ip_max_failures"},
		{"ip window", "auth:\n  ip_window: 0s\n", "auth.ip_window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml), &config.Console{}, nil)
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.wantKey+":") {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tc.wantKey)
			}
		})
	}
	_, err := config.Load("", &config.Console{}, []string{"SHARPEYES_AUDIT_FAIL_CLOSED=perhaps"})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "audit.fail_closed") {
		t.Errorf("env fail_closed: %v", err)
	}
	var c config.Console
	if _, err := config.Load("", &c, []string{"SHARPEYES_AUDIT_FAIL_CLOSED=false"}); err != nil || c.Audit.FailClosed {
		t.Errorf("fail open from the environment: %+v %v", c.Audit, err)
	}
}

func TestCIDRListPrefixes(t *testing.T) {
	ps, err := config.CIDRList(" ::ffff:10.0.0.1 , ,fe80::1, ::ffff:10.0.0.0/104").Prefixes()
	if err != nil || len(ps) != 3 || ps[0] != netip.MustParsePrefix("10.0.0.1/32") || ps[1] != netip.MustParsePrefix("fe80::1/128") ||
		ps[2] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Fatalf("%v %v", ps, err)
	}
	for _, bad := range []string{"fe80::1%eth0", "10.0.0", "x/8", "::ffff:10.0.0.0/64"} {
		if _, err := config.CIDRList(bad).Prefixes(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseCIDRList (the name of its corpus in testdata) checks that
// CIDRList.Prefixes never panics and that what it accepts are masked
// prefixes without zones.
func FuzzParseCIDRList(f *testing.F) {
	for _, seed := range []string{"10.0.0.0/8, 192.0.2.7", "::ffff:10.0.0.1", "fe80::1%eth0", "10.0.0.0/33", ",,", "2001:db8::/32"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := config.CIDRList(s).Prefixes()
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
				t.Fatalf("%q gave %v", s, p)
			}
		}
	})
}
