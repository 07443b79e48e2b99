package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/console"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// gbsimCatalog stores the cameras scripts/run-stack.sh starts gbsim with:
// 3 devices from 34020000001320000001 and 1 from 34020000001320000101, 4
// channels each, numbered as gbsim numbers them.
func (e *env) gbsimCatalog() {
	e.t.Helper()
	ctx := context.Background()
	for _, d := range []struct {
		id    string
		first int // the sequence number of its first channel
	}{
		{"34020000001320000001", 1}, {"34020000001320000002", 5}, {"34020000001320000003", 9}, {"34020000001320000101", 401},
	} {
		if err := e.devices.UpsertDevice(ctx, store.Device{ID: d.id, Name: "gbsim " + d.id[14:]}); err != nil {
			e.t.Fatal(err)
		}
		var chs []store.Channel
		for i := range 4 {
			chs = append(chs, store.Channel{ID: fmt.Sprintf("34020000001310%06d", d.first+i), Name: "camera", CivilCode: "340200"})
		}
		if _, err := e.devices.SyncCatalog(ctx, d.id, chs); err != nil {
			e.t.Fatal(err)
		}
	}
}

var seededLogin = regexp.MustCompile(`login: (\S+) / (\S+) `)

// TestSeedExamples seeds the example departments of `make run` and checks
// the slicing a newcomer sees: each operator must change the printed
// password, then sees their department's cameras only (城西 also the
// camera 城东 shares); a second seed changes nothing.
func TestSeedExamples(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.gbsimCatalog()
	ctx := context.Background()
	var out bytes.Buffer
	if err := console.SeedExamples(ctx, e.st, e.auth, &out); err != nil {
		t.Fatal(err)
	}
	passwords := map[string]string{}
	for _, m := range seededLogin.FindAllStringSubmatch(out.String(), -1) {
		passwords[m[1]] = m[2]
	}
	if len(passwords) != 2 {
		t.Fatalf("want two logins printed, got:\n%s", out.String())
	}
	before, err := e.st.UserByName(ctx, "chengdong")
	if err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := console.SeedExamples(ctx, e.st, e.auth, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already seeded") || strings.Contains(out.String(), passwords["chengdong"]) {
		t.Errorf("second seed: %s", out.String())
	}
	after, err := e.st.UserByName(ctx, "chengdong")
	if err != nil {
		t.Fatal(err)
	}
	if after.PasswordHash != before.PasswordHash {
		t.Error("the second seed reset a password")
	}
	depts, err := e.st.ListDepartments(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(depts) != 3 {
		t.Fatalf("%d departments after two seeds, want 3", len(depts))
	}
	grants := 0
	for _, d := range depts {
		gs, err := e.st.ListGrants(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		grants += len(gs)
	}
	if grants != 1 {
		t.Errorf("%d grants after two seeds, want 1", grants)
	}

	for _, tc := range []struct {
		user string
		want []string
	}{
		{"chengdong", []string{
			"34020000001310000001", "34020000001310000002", "34020000001310000003", "34020000001310000004",
			"34020000001310000005", "34020000001310000006", "34020000001310000007", "34020000001310000008",
		}},
		{"chengxi", []string{
			"34020000001310000001", "34020000001310000009", "34020000001310000010", "34020000001310000011",
			"34020000001310000012", "34020000001310000401", "34020000001310000402", "34020000001310000403",
			"34020000001310000404",
		}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			c := e.client()
			firstLogin(t, c, tc.user, passwords[tc.user], "a-new-password-1")
			var chs struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			r := c.do(http.MethodGet, "/api/v1/channels?limit=100", nil)
			mustStatus(t, "channels", r, http.StatusOK, "")
			r.json(t, &chs)
			var got []string
			for _, ch := range chs.Items {
				got = append(got, ch.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s sees %v, want %v", tc.user, got, tc.want)
			}
		})
	}
}

func TestSeedExamplesPasswordPolicy(t *testing.T) {
	// The printed password passes the strictest policy: all four classes.
	e := newEnv(t, envOptions{})
	e.auth.Password.MinClasses, e.auth.Password.MinLength = 4, 24
	var out bytes.Buffer
	if err := console.SeedExamples(context.Background(), e.st, e.auth, &out); err != nil {
		t.Fatal(err)
	}
	for _, m := range seededLogin.FindAllStringSubmatch(out.String(), -1) {
		if len(m[2]) < 24 {
			t.Errorf("%s's password %q is shorter than the policy's 24", m[1], m[2])
		}
	}
}
