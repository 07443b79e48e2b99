package ptzlock

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var (
	t0    = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	ann   = User{ID: "u1", Username: "ann", Priority: 5}
	bob   = User{ID: "u2", Username: "bob", Priority: 5}
	chief = User{ID: "u3", Username: "chief", Priority: 8}
	low   = User{ID: "u4", Username: "low", Priority: 1}
)

// step is one Acquire at t0+at and what it must answer.
type step struct {
	at     time.Duration
	camera string
	user   User
	// lockedBy is the holder named by the refusal ("" when granted).
	lockedBy string
	// until is the refusal's or the grant's end, as an offset from t0.
	until time.Duration
	// tookOver is the user a take-over took the camera from.
	tookOver string
}

func TestAcquire(t *testing.T) {
	const idle = 30 * time.Second
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a free camera is taken", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
		}},
		{"the holder's next command refreshes the lock", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: 20 * time.Second, camera: "c1", user: ann, until: 20*time.Second + idle},
			{at: 40 * time.Second, camera: "c1", user: bob, lockedBy: "ann", until: 20*time.Second + idle},
		}},
		{"an equal priority is refused with the holder and the end", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: time.Second, camera: "c1", user: bob, lockedBy: "ann", until: idle},
		}},
		{"a lower priority is refused", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: time.Second, camera: "c1", user: low, lockedBy: "ann", until: idle},
		}},
		{"a refusal does not extend the holder's lock", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: 29 * time.Second, camera: "c1", user: bob, lockedBy: "ann", until: idle},
			{at: idle, camera: "c1", user: bob, until: 2 * idle},
		}},
		{"a higher priority takes over", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: time.Second, camera: "c1", user: chief, until: time.Second + idle, tookOver: "ann"},
			{at: 2 * time.Second, camera: "c1", user: ann, lockedBy: "chief", until: time.Second + idle},
		}},
		{"the lock expires exactly after the idle time", []step{
			{at: 0, camera: "c1", user: chief, until: idle},
			{at: idle - time.Nanosecond, camera: "c1", user: low, lockedBy: "chief", until: idle},
			{at: idle, camera: "c1", user: low, until: 2 * idle},
		}},
		{"an expired lock is no take-over", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: idle, camera: "c1", user: chief, until: 2 * idle},
		}},
		{"cameras are locked apart", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: time.Second, camera: "c2", user: bob, until: time.Second + idle},
			{at: 2 * time.Second, camera: "c1", user: bob, lockedBy: "ann", until: idle},
		}},
		{"a session of the same user with another priority keeps and rates the lock", []step{
			{at: 0, camera: "c1", user: ann, until: idle},
			{at: time.Second, camera: "c1", user: User{ID: ann.ID, Username: "ann", Priority: 9}, until: time.Second + idle},
			{at: 2 * time.Second, camera: "c1", user: chief, lockedBy: "ann", until: time.Second + idle},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			l := &Locks{Idle: idle, Now: func() time.Time { return now }}
			if err := l.Initialize(); err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				now = t0.Add(s.at)
				res, err := l.Acquire(s.camera, s.user)
				if s.lockedBy != "" {
					var le *LockedError
					if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
						t.Fatalf("step %d: %v, want refused by %s", i, err, s.lockedBy)
					}
					if le.Holder.Username != s.lockedBy || !le.Holder.Until.Equal(t0.Add(s.until)) {
						t.Fatalf("step %d: refused by %+v, want %s until +%s", i, le.Holder, s.lockedBy, s.until)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if res.Holder.User != s.user || !res.Holder.Until.Equal(t0.Add(s.until)) {
					t.Fatalf("step %d: holder %+v, want %+v until +%s", i, res.Holder, s.user, s.until)
				}
				switch {
				case s.tookOver == "" && res.TookOver != nil:
					t.Fatalf("step %d: took over from %+v", i, *res.TookOver)
				case s.tookOver != "" && (res.TookOver == nil || res.TookOver.Username != s.tookOver):
					t.Fatalf("step %d: took over from %v, want %s", i, res.TookOver, s.tookOver)
				}
			}
		})
	}
}

func TestBadPriority(t *testing.T) {
	l := &Locks{}
	if err := l.Initialize(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{MinPriority - 1, MaxPriority + 1, -5} {
		if _, err := l.Acquire("c1", User{ID: "u1", Username: "ann", Priority: p}); !errors.Is(err, ErrPriority) {
			t.Errorf("priority %d: %v, want ErrPriority", p, err)
		}
	}
	if n := l.count(); n != 0 {
		t.Errorf("a refused priority left %d locks", n)
	}
}

func TestInitialize(t *testing.T) {
	l := &Locks{}
	if err := l.Initialize(); err != nil || l.Idle != DefaultIdle || l.Now == nil {
		t.Fatalf("defaults: %v idle %s", err, l.Idle)
	}
	if err := (&Locks{Idle: -time.Second}).Initialize(); err == nil {
		t.Fatal("a negative idle time was accepted")
	}
}

// The expired locks are dropped, once per idle time, as commands pass: the
// registry does not grow with every camera ever controlled.
func TestSweep(t *testing.T) {
	now := t0
	l := &Locks{Idle: time.Minute, Now: func() time.Time { return now }}
	if err := l.Initialize(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"c1", "c2", "c3"} {
		if _, err := l.Acquire(c, ann); err != nil {
			t.Fatal(err)
		}
	}
	now = t0.Add(30 * time.Second)
	if _, err := l.Acquire("c4", ann); err != nil {
		t.Fatal(err)
	}
	if n := l.count(); n != 4 {
		t.Fatalf("%d locks, want 4", n)
	}
	// c1–c3 expired; the sweep is due (a minute after the first).
	now = t0.Add(time.Minute)
	if _, err := l.Acquire("c5", bob); err != nil {
		t.Fatal(err)
	}
	if n := l.count(); n != 2 {
		t.Fatalf("%d locks after the sweep, want 2 (c4, c5)", n)
	}
}

// Users asking at once with one priority: exactly one gets the camera.
func TestOneWinner(t *testing.T) {
	l := &Locks{Now: func() time.Time { return t0 }}
	if err := l.Initialize(); err != nil {
		t.Fatal(err)
	}
	const users = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Acquire("c1", User{ID: strconv.Itoa(i + 1), Username: "u", Priority: 5})
			if err == nil {
				mu.Lock()
				granted++
				mu.Unlock()
			} else if !errors.Is(err, ErrLocked) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if granted != 1 {
		t.Fatalf("%d users got the camera, want 1", granted)
	}
}

// count is the number of locks kept, expired ones not yet swept included.
func (l *Locks) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}
