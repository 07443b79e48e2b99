package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strconv"
	"strings"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
)

// ExampleRoot is the department the example departments hang under.
const ExampleRoot = "示例 公安局"

// ExampleDepartment is one department `make run` seeds, with one operator,
// so that a newcomer sees permission slicing at once.
type ExampleDepartment struct {
	Name string
	// Username is the department's operator.
	Username string
	// Devices are the devices the department owns (主责单位): every right
	// on all their channels.
	Devices []string
	// Shared are channels of another department granted to this one for
	// live view and playback (共享利用).
	Shared []string
}

// ExampleDepartments are the departments SeedExamples creates. The IDs are
// those of the cameras scripts/run-stack.sh starts gbsim with (3 devices
// from 34020000001320000001 and 1 from 34020000001320000101, 4 cameras
// each): 城东 owns the first two devices, 城西 the other two and shares
// one camera of 城东's.
var ExampleDepartments = []ExampleDepartment{
	{
		Name: "示例 城东分局", Username: "chengdong",
		Devices: []string{"34020000001320000001", "34020000001320000002"},
	},
	{
		Name: "示例 城西分局", Username: "chengxi",
		Devices: []string{"34020000001320000003", "34020000001320000101"},
		Shared:  []string{"34020000001310000001"},
	},
}

// seedActor is the created_by/set_by of what the seed writes.
const seedActor = "seed"

// SeedExamples creates what is missing of ExampleRoot and
// ExampleDepartments — the departments, their ownerships and grant, and
// one operator each with a random initial password that must be changed
// at the first login — and writes to out what it created, the passwords
// included (they are shown this once). Nothing that exists is changed: a
// second run writes "already seeded". accounts hashes the passwords under
// its policy; every creation is audited.
func SeedExamples(ctx context.Context, db *consoledb.DB, accounts *auth.Service, out io.Writer) error {
	s := seeder{ctx: ctx, db: db, accounts: accounts}
	all, err := db.ListDepartments(ctx, 0)
	if err != nil {
		return err
	}
	root, err := s.department(all, 0, ExampleRoot)
	if err != nil {
		return err
	}
	var users []string
	for _, ex := range ExampleDepartments {
		id, err := s.department(all, root, ex.Name)
		if err != nil {
			return err
		}
		if err := s.own(id, ex.Name, ex.Devices); err != nil {
			return err
		}
		if err := s.share(id, ex.Name, ex.Shared); err != nil {
			return err
		}
		if err := s.operator(id, ex); err != nil {
			return err
		}
		users = append(users, ex.Username)
	}
	if len(s.done) == 0 {
		_, err := fmt.Fprintf(out, "example departments already seeded (operators %s; "+
			"their initial passwords were shown at the first run, an admin resets them under 用户 / Users)\n",
			strings.Join(users, ", "))
		return err
	}
	_, err = io.WriteString(out, strings.Join(s.done, "\n")+"\n")
	return err
}

// seeder creates what SeedExamples finds missing and notes it in done.
type seeder struct {
	ctx      context.Context
	db       *consoledb.DB
	accounts *auth.Service
	done     []string
}

func (s *seeder) audit(action, target string, detail map[string]any) {
	detail["seed"] = "examples"
	_ = auth.WriteAudit(s.ctx, s.db, s.accounts.Log, store.AuditEntry{Action: action, Target: target, Detail: detail})
}

// department returns the ID of department name under parent (0: a root),
// creating it when all lacks it.
func (s *seeder) department(all []store.Department, parent int64, name string) (int64, error) {
	for _, d := range all {
		if d.ParentID == parent && d.Name == name {
			return d.ID, nil
		}
	}
	d, err := s.db.CreateDepartment(s.ctx, store.Department{ParentID: parent, Name: name, Level: store.LevelUnit})
	if err != nil {
		return 0, fmt.Errorf("seed examples: %w", err)
	}
	s.audit("department_create", strconv.FormatInt(d.ID, 10), map[string]any{
		"name": d.Name, "parent_id": d.ParentID, "level": d.Level, "civil_code": d.CivilCode,
	})
	s.done = append(s.done, fmt.Sprintf("created department %s (id %d)", name, d.ID))
	return d.ID, nil
}

// own makes dept the owner of the devices nobody owns yet.
func (s *seeder) own(dept int64, name string, devices []string) error {
	for _, dev := range devices {
		owner, err := s.db.Owner(s.ctx, store.Channel{DeviceID: dev})
		if err != nil {
			return fmt.Errorf("seed examples: %w", err)
		}
		if owner != 0 {
			continue
		}
		if err := s.db.SetDeviceOwner(s.ctx, dev, dept, seedActor); err != nil {
			return fmt.Errorf("seed examples: %w", err)
		}
		s.audit("device_owner", dev, map[string]any{"department_id": dept})
		s.done = append(s.done, fmt.Sprintf("%s owns device %s (its cameras, every right)", name, dev))
	}
	return nil
}

// share grants dept live view and playback of channels, unless dept has
// a grant already.
func (s *seeder) share(dept int64, name string, channels []string) error {
	if len(channels) == 0 {
		return nil
	}
	have, err := s.db.ListGrants(s.ctx, dept)
	if err != nil || len(have) > 0 {
		return err
	}
	g, err := s.db.CreateGrant(s.ctx, consoledb.Grant{
		DepartmentID: dept,
		Scope:        consoledb.GrantScope{Kind: consoledb.ScopeChannels, ChannelIDs: channels},
		Rights:       []string{catalogview.RightLive, catalogview.RightPlayback},
		CreatedBy:    seedActor,
	})
	if err != nil {
		return fmt.Errorf("seed examples: %w", err)
	}
	s.audit("grant_create", strconv.FormatInt(g.ID, 10), map[string]any{
		"department_id": dept, "channel_ids": channels, "rights": g.Rights,
	})
	s.done = append(s.done, fmt.Sprintf("%s is granted live view and playback of %s (grant %d)",
		name, strings.Join(channels, ", "), g.ID))
	return nil
}

// operator creates ex's operator in dept unless the username exists.
func (s *seeder) operator(dept int64, ex ExampleDepartment) error {
	_, err := s.db.UserByName(s.ctx, ex.Username)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("seed examples: %w", err)
	}
	password, err := examplePassword(s.accounts.Password.MinLength)
	if err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(s.ctx, store.User{Username: ex.Username, Role: store.RoleOperator, DepartmentID: dept}, password)
	if err != nil {
		return fmt.Errorf("seed examples: %w", err)
	}
	s.audit("user_create", u.Username, map[string]any{"id": u.ID, "role": u.Role, "department_id": u.DepartmentID})
	s.done = append(s.done, fmt.Sprintf("login: %s / %s  (operator of %s; must change the password at the first login)",
		ex.Username, password, ex.Name))
	return nil
}

// examplePassword returns a random password of at least minLen characters
// with all four character classes, so that any password policy takes it.
func examplePassword(minLen int) (string, error) {
	lower := max(6, minLen-13)
	var b strings.Builder
	for _, part := range []struct {
		alphabet string
		n        int
	}{
		{"abcdefghijkmnpqrstuvwxyz", lower}, {"-", 1}, {"ABCDEFGHJKLMNPQRSTUVWXYZ", 6}, {"-", 1}, {"23456789", 6},
	} {
		for range part.n {
			i, err := rand.Int(rand.Reader, big.NewInt(int64(len(part.alphabet))))
			if err != nil {
				return "", fmt.Errorf("example password: %w", err)
			}
			b.WriteByte(part.alphabet[i.Int64()])
		}
	}
	return b.String(), nil
}

// SeedExamplesRun is the RunFunc of `console -seed-examples`: it seeds the
// example departments into cfg's database (SeedExamples, printing to out)
// and returns. The console service must have started once before (it
// creates the admin; sipserver applies the schema).
func SeedExamplesRun(out io.Writer) func(context.Context, *config.Console, *slog.Logger) error {
	return func(ctx context.Context, cfg *config.Console, log *slog.Logger) error {
		st, err := svcdb.Open(ctx, "console", cfg.Database, svcdb.Reader, log)
		if err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		defer st.Close()
		db := consoledb.New(st)
		accounts := &auth.Service{
			Store: db,
			Password: auth.PasswordPolicy{
				MinLength: cfg.Auth.PasswordMinLength, MinClasses: cfg.Auth.PasswordMinClasses, History: cfg.Auth.PasswordHistory,
			},
			Log: log,
		}
		if err := accounts.Initialize(); err != nil {
			return err
		}
		defer accounts.Close()
		return SeedExamples(ctx, db, accounts, out)
	}
}
