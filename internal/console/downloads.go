package console

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Download states.
const (
	DownloadRunning = "running"
	DownloadDone    = "done"
	DownloadFailed  = "failed"
)

// Download defaults.
const (
	defaultMaxDownloads = 4
	defaultDownloadAge  = 24 * time.Hour
	// activeWait bounds the wait for a download session to become active before ffmpeg reads it.
	activeWait = 15 * time.Second
	// ffmpegIOTimeout ends a download whose stream stopped sending.
	ffmpegIOTimeout = 15 * time.Second
	// nearlyComplete is the progress from which a download whose ffmpeg
	// failed at the very end (the device hung up before ffmpeg's last read)
	// still counts as done.
	nearlyComplete = 0.98
)

// DownloadStatus is a download as the API shows it.
type DownloadStatus struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Progress  float64 `json:"progress"`
	Bytes     int64   `json:"bytes"`
	Error     string  `json:"error,omitempty"`
	ChannelID string  `json:"channel_id,omitempty"`
	SessionID string  `json:"session_id,omitempty"`
	// Start and End are the range (nil for a file found on disk after a restart).
	Start *time.Time `json:"start,omitempty"`
	End   *time.Time `json:"end,omitempty"`
	Speed int        `json:"speed,omitempty"`
	User  string     `json:"user,omitempty"`
	// finished is when it ended (for the cleaner).
	finished time.Time
}

// FileName is the name offered when the file is saved.
func (s DownloadStatus) FileName() string {
	if s.ChannelID == "" || s.Start == nil {
		return s.ID + ".mp4"
	}
	return fmt.Sprintf("%s_%s.mp4", s.ChannelID, s.Start.Local().Format("20060102T150405"))
}

// Downloads records device recordings into MP4 files: a download session
// from sipserver, read by ffmpeg from mediagw's RTSP server.
type Downloads struct {
	// Dir holds the files: <id>.mp4 when complete, <id>.mp4.part while running.
	Dir string
	// FFmpeg is the ffmpeg binary.
	FFmpeg string
	// RTSPURL is mediagw's RTSP base URL.
	RTSPURL string
	Sip     *SipserverClient
	Signer  *playtoken.Signer
	// TokenTTL is the play token's lifetime (ffmpeg connects once, at the start).
	TokenTTL time.Duration
	// MaxRunning bounds concurrent downloads (default 4).
	MaxRunning int
	// MaxAge removes files (and forgets downloads) older than this (default 24 h).
	MaxAge time.Duration
	Log    *slog.Logger

	mu      sync.Mutex
	items   map[string]*DownloadStatus
	running int
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var downloadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Initialize creates Dir, removes stale files and starts the cleaner.
func (d *Downloads) Initialize() error {
	if d.MaxRunning <= 0 {
		d.MaxRunning = defaultMaxDownloads
	}
	if d.MaxAge <= 0 {
		d.MaxAge = defaultDownloadAge
	}
	if d.TokenTTL <= 0 {
		d.TokenTTL = 5 * time.Minute
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return fmt.Errorf("downloads dir: %w", err)
	}
	// A .part file is an interrupted download of an earlier run: never complete.
	if parts, _ := filepath.Glob(filepath.Join(d.Dir, "*.mp4.part")); len(parts) > 0 {
		for _, p := range parts {
			_ = os.Remove(p)
		}
	}
	d.items = map[string]*DownloadStatus{}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Go(d.runCleaner)
	return nil
}

// Close stops the running downloads (their files are removed) and the cleaner.
func (d *Downloads) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

func (d *Downloads) runCleaner() {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		d.clean(time.Now())
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// clean removes files and finished downloads older than MaxAge.
func (d *Downloads) clean(now time.Time) {
	d.mu.Lock()
	for id, it := range d.items {
		if it.State != DownloadRunning && now.Sub(it.finished) > d.MaxAge {
			delete(d.items, id)
		}
	}
	d.mu.Unlock()
	entries, err := os.ReadDir(d.Dir)
	if err != nil {
		d.Log.Warn("clean downloads", "dir", d.Dir, "error", err)
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mp4") {
			continue // .part files belong to running downloads
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) <= d.MaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(d.Dir, e.Name())); err == nil {
			d.Log.Info("removed old download", "file", e.Name())
		}
	}
}

func (d *Downloads) file(id string) string { return filepath.Join(d.Dir, id+".mp4") }

// Start asks sipserver for a download session of ch between start and end at
// speed and records it in the background.
func (d *Downloads) Start(ctx context.Context, user string, ch store.Channel, start, end time.Time, speed int) (DownloadStatus, error) {
	if d.Signer == nil {
		return DownloadStatus{}, ErrPlayDisabled
	}
	d.mu.Lock()
	if d.running >= d.MaxRunning {
		d.mu.Unlock()
		return DownloadStatus{}, ErrTooManyDownloads
	}
	d.running++ // reserved now: concurrent requests must not overshoot the limit
	d.mu.Unlock()
	release := func() {
		d.mu.Lock()
		d.running--
		d.mu.Unlock()
	}
	sess, err := d.Sip.CreateSession(ctx, SessionRequest{Kind: "download", ChannelID: ch.ID, Start: start, End: end, Speed: speed})
	if err != nil {
		release()
		return DownloadStatus{}, err
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	st := &DownloadStatus{
		ID: hex.EncodeToString(b), State: DownloadRunning, ChannelID: ch.ID, SessionID: sess.ID,
		Start: &start, End: &end, Speed: speed, User: user,
	}
	d.mu.Lock()
	d.items[st.ID] = st
	d.mu.Unlock()
	// The answer is taken before the recorder starts writing to st.
	answer := *st
	d.wg.Go(func() {
		defer release()
		err := d.record(st, sess, end.Sub(start))
		d.mu.Lock()
		st.finished = time.Now()
		if err != nil {
			st.State, st.Error = DownloadFailed, err.Error()
		} else {
			st.State, st.Progress = DownloadDone, 1
		}
		bytes := st.Bytes
		d.mu.Unlock()
		if err != nil {
			d.Log.Warn("download failed", "id", st.ID, "channel_id", ch.ID, "session_id", sess.ID, "error", err)
		} else {
			d.Log.Info("download done", "id", st.ID, "channel_id", ch.ID, "session_id", sess.ID, "bytes", bytes)
		}
	})
	return answer, nil
}

// record runs ffmpeg on the session's stream into the download's file.
func (d *Downloads) record(st *DownloadStatus, sess Session, length time.Duration) error {
	// The device must stop sending whatever happens here; ending a session
	// that already ended (the device's MediaStatus 121) is harmless.
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), 10*time.Second)
		defer cancel()
		var se *SipError
		if err := d.Sip.DeleteSession(ctx, sess.ID); err != nil && (!errors.As(err, &se) || se.Status != 404) {
			d.Log.Info("end download session", "session_id", sess.ID, "error", err)
		}
	}()
	if err := d.waitActive(sess); err != nil {
		return err
	}
	tok, err := d.Signer.Issue(playtoken.Claims{
		Subject: st.User, Paths: []string{sess.Path},
		Rights: []string{playtoken.RightDownload}, Expires: time.Now().Add(d.TokenTTL).Unix(), IssuedAt: time.Now().Unix(),
	})
	if err != nil {
		return err
	}
	src := strings.TrimRight(d.RTSPURL, "/") + "/" + escapePath(sess.Path) + "?token=" + url.QueryEscape(tok)
	part := d.file(st.ID) + ".part"
	cmd := exec.CommandContext(d.ctx, d.FFmpeg, ffmpegArgs(src, part)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", d.FFmpeg, err)
	}
	d.readProgress(st, stdout, length)
	runErr := cmd.Wait()
	d.mu.Lock()
	progress := st.Progress
	d.mu.Unlock()
	info, statErr := os.Stat(part)
	switch {
	case d.ctx.Err() != nil:
		_ = os.Remove(part)
		return errors.New("console stopped")
	case statErr != nil || info.Size() == 0:
		_ = os.Remove(part)
		return fmt.Errorf("ffmpeg wrote nothing: %s", stderr.String())
	case runErr != nil && progress < nearlyComplete:
		_ = os.Remove(part)
		return fmt.Errorf("ffmpeg: %w: %s", runErr, stderr.String())
	}
	if err := os.Rename(part, d.file(st.ID)); err != nil {
		return fmt.Errorf("finish download: %w", err)
	}
	d.mu.Lock()
	st.Bytes = info.Size()
	d.mu.Unlock()
	return nil
}

// ffmpegArgs records src into out as MP4: video copied, audio (G.711 has no
// place in MP4) made AAC, the index up front so the file plays while it is
// still being fetched.
func ffmpegArgs(src, out string) []string {
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
		"-rtsp_transport", "tcp", "-timeout", strconv.FormatInt(ffmpegIOTimeout.Microseconds(), 10),
		"-i", src,
		"-map", "0:v", "-map", "0:a?", "-c:v", "copy", "-c:a", "aac",
		"-movflags", "+faststart", "-f", "mp4", "-progress", "pipe:1", "-y", out,
	}
}

// waitActive waits until sipserver says the device is sending.
func (d *Downloads) waitActive(sess Session) error {
	ctx, cancel := context.WithTimeout(d.ctx, activeWait)
	defer cancel()
	for sess.State == "inviting" {
		select {
		case <-ctx.Done():
			return fmt.Errorf("download session %s not active after %s", sess.ID, activeWait)
		case <-time.After(200 * time.Millisecond):
		}
		var err error
		if sess, err = d.Sip.GetSession(ctx, sess.ID); err != nil {
			return err
		}
	}
	if sess.State == "ended" {
		return fmt.Errorf("download session %s ended: %s", sess.ID, sess.EndReason)
	}
	return nil
}

// readProgress follows ffmpeg's -progress output (key=value lines).
func (d *Downloads) readProgress(st *DownloadStatus, r io.Reader, length time.Duration) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch key {
		case "out_time_us":
			us, err := strconv.ParseInt(val, 10, 64)
			if err != nil || us < 0 || length <= 0 {
				continue
			}
			p := min(float64(us)/float64(length.Microseconds()), 1)
			d.mu.Lock()
			st.Progress = p
			d.mu.Unlock()
		case "total_size":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
				d.mu.Lock()
				st.Bytes = n
				d.mu.Unlock()
			}
		}
	}
}

// Status returns a download. One not known in memory but whose file exists
// (finished before a restart) is done.
func (d *Downloads) Status(id string) (DownloadStatus, error) {
	if !downloadIDPattern.MatchString(id) {
		return DownloadStatus{}, fmt.Errorf("download %q: %w", id, store.ErrNotFound)
	}
	d.mu.Lock()
	it, ok := d.items[id]
	var st DownloadStatus
	if ok {
		st = *it
	}
	d.mu.Unlock()
	if ok {
		return st, nil
	}
	info, err := os.Stat(d.file(id))
	if err != nil {
		return DownloadStatus{}, fmt.Errorf("download %s: %w", id, store.ErrNotFound)
	}
	return DownloadStatus{ID: id, State: DownloadDone, Progress: 1, Bytes: info.Size()}, nil
}

// Open opens a finished download's file.
func (d *Downloads) Open(id string) (*os.File, os.FileInfo, error) {
	if !downloadIDPattern.MatchString(id) {
		return nil, nil, fmt.Errorf("download %q: %w", id, store.ErrNotFound)
	}
	f, err := os.Open(d.file(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("download %s file: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// tailBuffer keeps the last 2 KiB written: ffmpeg's error, without its history.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = t.buf[len(t.buf)-2048:]
	}
	return len(p), nil
}

// String returns the tail with play tokens redacted: ffmpeg's errors quote
// the input URL, and the text goes to the log and the download's status.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tokenParam.ReplaceAllString(string(bytes.TrimSpace(t.buf)), "${1}REDACTED")
}

// tokenParam matches the token query parameter of a URL.
var tokenParam = regexp.MustCompile(`([?&]token=)[^&\s"']+`)
