// Package miniotest starts a real MinIO server on 127.0.0.1 for tests: a
// fresh data directory per server, a free port, stopped when the test ends.
// The binary is taken from PATH or from $(go env GOPATH)/bin, where
// scripts/install-deps.sh installs it with go install; without it a test is
// skipped on a developer's machine and fails under CI.
package miniotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// Credentials of every test server (MinIO's well-known defaults).
const (
	AccessKey = "minioadmin"
	SecretKey = "minioadmin"
)

const (
	// StartTimeout bounds how long a server may take to answer its readiness
	// probe: MinIO formats its drive on the first start, slowly on a loaded machine.
	StartTimeout = 2 * time.Minute
	// StopTimeout is how long Stop waits after SIGTERM before it kills.
	StopTimeout = 30 * time.Second
	// probeInterval is how often the readiness probe is repeated.
	probeInterval = 50 * time.Millisecond
)

// installHint says how to get the binary.
const installHint = "scripts/install-deps.sh, or: go install github.com/minio/minio@" + Version

// Version is the MinIO version scripts/install-deps.sh installs (a
// pseudo-version: the module proxy lists none of MinIO's release tags).
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// Server is one MinIO process.
type Server struct {
	// Endpoint is host:port of the S3 API (plain HTTP). It stays the same
	// across Stop and Restart.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Dir is the data directory.
	Dir string

	t       testing.TB
	bin     string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited and been waited for
}

// Start starts a MinIO server with a fresh data directory under t.TempDir()
// on a free port of 127.0.0.1, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	testsupport.Need(t, "MinIO", installHint, err)
	s := &Server{
		AccessKey: AccessKey, SecretKey: SecretKey,
		Dir: filepath.Join(t.TempDir(), "data"), t: t, bin: bin,
	}
	s.logPath = s.Dir + ".log"
	t.Cleanup(s.Stop)
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.start()
		if err == nil {
			return s
		}
		// Another test binary may have taken the port in between.
		if !testsupport.AddrInUse(err) || attempt == testsupport.PortAttempts {
			t.Fatal(err)
		}
	}
}

// Binary returns the path of the minio binary: from PATH, else from the
// bin directory of GOPATH.
func Binary() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(string(out))
	}
	var tried []string
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "minio")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("minio: not in PATH nor at %s", strings.Join(tried, ", "))
}

// Stop stops the server (SIGTERM, then SIGKILL after StopTimeout) and waits
// for the process. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(StopTimeout):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts a stopped server again on the same endpoint and data, so
// that stores opened on it reconnect.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Bucket creates a bucket and returns its name.
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := s.client(tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("miniotest: create bucket %s: %v", name, err)
	}
	return name
}

// Config is an objstore configuration for bucket on this server, spooling
// under spoolDir.
func (s *Server) Config(bucket, spoolDir string) objstore.Config {
	return objstore.Config{
		Kind: objstore.KindS3, Endpoint: s.Endpoint, Bucket: bucket, SpoolDir: spoolDir,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey,
	}
}

// start runs the process and waits until it is ready or has exited.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("miniotest: log: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	mark, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint, s.Dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", // no web console, no second port to pick
		"MINIO_UPDATE=off",  // never looks for a newer release
		"MINIO_CI_CD=on",    // accepts a drive on the root filesystem
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("miniotest: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	// Ready means the S3 API answers a signed request: MinIO's health probe
	// says ready while the API still refuses requests ("Server not
	// initialized yet").
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client, err := s.client(tr, 1)
	if err != nil {
		s.Stop()
		return err
	}
	deadline := time.Now().Add(StartTimeout)
	var probeErr error
	for {
		select {
		case <-done:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			out := s.logSince(mark)
			if strings.Contains(out, "address already in use") {
				return fmt.Errorf("miniotest: %s: %w: %s", s.Endpoint, syscall.EADDRINUSE, out)
			}
			return fmt.Errorf("miniotest: minio exited before it was ready (%s): %s", cmd.ProcessState, out)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, probeErr = client.ListBuckets(ctx)
		cancel()
		if probeErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("miniotest: not ready after %v at %s: %w: %s", StartTimeout, s.Endpoint, probeErr, s.logSince(mark))
		}
		time.Sleep(probeInterval)
	}
}

// client is a minio-go client of the server with root credentials on tr,
// trying each request maxRetries times.
func (s *Server) client(tr http.RoundTripper, maxRetries int) (*minio.Client, error) {
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Transport:  tr,
		MaxRetries: maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("miniotest: client: %w", err)
	}
	return c, nil
}

// logSince returns the server's log from offset on, cut to its last 4 KiB.
func (s *Server) logSince(offset int64) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	b = bytes.TrimSpace(b[offset:])
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("miniotest: free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("miniotest: free port: not a TCP address")
	}
	return addr.Port, nil
}
