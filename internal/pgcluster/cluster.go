package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the role initdb creates; trust authentication needs no password.
const Superuser = "sharpeyes"

// Cluster is a private PostgreSQL cluster in one data directory.
type Cluster struct {
	// Dir is the data directory. It is created (and initdb'd) when missing.
	Dir string
	// Durable keeps fsync on. Tests turn it off for speed; the development stack keeps it.
	Durable bool
	// Log receives one line per start, reuse and stop. Nil means slog.Default().
	Log *slog.Logger

	binDir string
	cred   *syscall.Credential
	port   int
}

// Ensure starts the cluster in c.Dir, or reuses the one already running there.
// Several processes may call it at once for the same directory: a lock file
// beside the directory serialises them.
func (c *Cluster) Ensure(ctx context.Context) error {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return fmt.Errorf("pgcluster: data dir %q: %w", c.Dir, err)
	}
	c.Dir = dir
	if c.binDir, err = FindBinaries(); err != nil {
		return err
	}
	if c.cred, err = serverCredential(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("pgcluster: create parent of %s: %w", dir, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".lock"))
	if err != nil {
		return err
	}
	defer unlock()

	if port, ok := c.runningPort(ctx); ok {
		c.port = port
		c.Log.Info("reusing private PostgreSQL cluster", "dir", dir, "port", port)
		return nil
	}
	if err := c.initdb(ctx); err != nil {
		return err
	}
	var lastErr error
	for range 3 { // the free port may be taken between choosing and binding it
		port, err := freePort()
		if err != nil {
			return err
		}
		if lastErr = c.start(ctx, port); lastErr == nil {
			c.port = port
			c.Log.Info("started private PostgreSQL cluster", "dir", dir, "port", port,
				"log", filepath.Join(dir, "postgres.log"))
			return nil
		}
	}
	return lastErr
}

// Port is the TCP port the cluster listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, c.port, db)
}

// CreateDB creates database db unless it exists.
func (c *Cluster) CreateDB(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database %s: %w", db, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("pgcluster: create database %s: %w", db, err)
	}
	return nil
}

// Stop shuts the cluster down (fast mode: open sessions are ended).
func (c *Cluster) Stop(ctx context.Context) error {
	if c.binDir == "" {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pgcluster: stop cluster %s: %w: %s", c.Dir, err, out)
	}
	c.Log.Info("stopped private PostgreSQL cluster", "dir", c.Dir)
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); err == nil {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: create %s: %w", c.Dir, err)
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	out, err := c.run(ctx, "initdb", "-D", c.Dir, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w: %s", c.Dir, err, out)
	}
	conf := "\n# sharpeyes private cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n"
	if !c.Durable {
		conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
	}
	f, err := os.OpenFile(filepath.Join(c.Dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: open postgresql.conf: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		return fmt.Errorf("pgcluster: write postgresql.conf: %w", err)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context, port int) error {
	logPath := filepath.Join(c.Dir, "postgres.log")
	out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-l", logPath, "-w", "-t", "60",
		"-o", "-p "+strconv.Itoa(port), "start")
	if err != nil {
		return fmt.Errorf("pgcluster: start cluster %s on port %d: %w: %s%s", c.Dir, port, err, out, tail(logPath))
	}
	return nil
}

// runningPort reads the port of a live postmaster from postmaster.pid and checks it answers.
func (c *Cluster) runningPort(ctx context.Context) (int, bool) {
	data, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return 0, false
	}
	if _, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "status"); err != nil {
		return 0, false // stale pid file: pg_ctl start cleans it up
	}
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, false
	}
	conn.Close()
	return port, true
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = "/"
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// pg_ctl start leaves the postmaster running with our stdout if we give it one;
	// a pipe would keep CombinedOutput waiting, so collect output from a file instead.
	f, err := os.CreateTemp("", "pgcluster-out-*")
	if err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return strings.TrimSpace(string(out)), runErr
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("pgcluster: chown %s to the postgres user: %w", path, err)
	}
	return nil
}

// FindBinaries returns the directory holding initdb and pg_ctl: the newest
// /usr/lib/postgresql/<version>/bin, else the directory of initdb on PATH.
func FindBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, ErrNoUser
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgcluster: postgres user has a non-numeric uid/gid %s/%s", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("pgcluster: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pgcluster: wait for lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the last lines of the server log, to explain a failed start.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 10 {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n" + strings.Join(lines, "\n")
}
