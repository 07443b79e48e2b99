package console

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
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
	// activePoll is how often sipserver is asked meanwhile.
	activePoll = 200 * time.Millisecond
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
	// User started the download and owns it; empty for a file of an older
	// version found after a restart, which only admins may reach.
	User string `json:"user,omitempty"`
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
	// Dir holds the files: <id>.mp4 when complete, <id>.mp4.part while
	// running, and <id>.json with the owner and range.
	Dir string
	// FFmpeg is the ffmpeg binary.
	FFmpeg string
	// RTSPURL is mediagw's RTSP base URL.
	RTSPURL string
	Sip     *sipapi.Client
	Signer  *playtoken.Signer
	// TokenTTL is the play token's lifetime (ffmpeg connects once, at the start).
	TokenTTL time.Duration
	// MaxRunning bounds concurrent downloads (default 4).
	MaxRunning int
	// MaxAge removes files (and forgets downloads) older than this (default 24 h).
	MaxAge time.Duration
	Log    *slog.Logger

	mu    sync.Mutex
	items map[string]*DownloadStatus
	// cancels stops each running download, by id; an entry lives while
	// its status says running.
	cancels map[string]context.CancelFunc
	running int
	// closed refuses new downloads once Close began; set under mu before
	// Close waits, so that no Start adds to wg after Wait.
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
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
	// A .part file is an interrupted download of an earlier run: never
	// complete; so is a sidecar without its file.
	if parts, _ := filepath.Glob(filepath.Join(d.Dir, "*.mp4.part")); len(parts) > 0 {
		for _, p := range parts {
			_ = os.Remove(p)
		}
	}
	if metas, _ := filepath.Glob(filepath.Join(d.Dir, "*.json")); len(metas) > 0 {
		for _, m := range metas {
			if _, err := os.Stat(strings.TrimSuffix(m, ".json") + ".mp4"); errors.Is(err, os.ErrNotExist) {
				_ = os.Remove(m)
			}
		}
	}
	d.items = map[string]*DownloadStatus{}
	d.cancels = map[string]context.CancelFunc{}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Go(d.runCleaner)
	return nil
}

// Close stops the running downloads (their files are removed) and the
// cleaner, and waits for them and for the Starts in flight; a Start after
// it answers ErrShuttingDown.
func (d *Downloads) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
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
		id, ok := strings.CutSuffix(e.Name(), ".mp4")
		if !ok {
			continue // .part and .json files belong to running downloads or to a file
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) <= d.MaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(d.Dir, e.Name())); err == nil {
			_ = os.Remove(d.meta(id))
			d.Log.Info("removed old download", "file", e.Name())
		}
	}
}

func (d *Downloads) file(id string) string { return filepath.Join(d.Dir, id+".mp4") }

func (d *Downloads) meta(id string) string { return filepath.Join(d.Dir, id+".json") }

// writeMeta writes the sidecar <id>.json of st, atomically: the status as
// the download starts, which names the owner and the range after a console
// restart. (Its keys are those of the former sidecar — user, channel_id,
// session_id, start, end, speed — plus the status's others, which readMeta
// ignores: old and new consoles read each other's files.)
func (d *Downloads) writeMeta(st *DownloadStatus) error {
	d.mu.Lock()
	snap := *st
	d.mu.Unlock()
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	tmp := d.meta(st.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, d.meta(st.ID))
}

// readMeta reads the owner and the range of id's sidecar into st (the
// state comes from the file); without one st keeps no owner.
func (d *Downloads) readMeta(id string, st *DownloadStatus) {
	b, err := os.ReadFile(d.meta(id))
	if err != nil {
		return
	}
	var m DownloadStatus
	if err := json.Unmarshal(b, &m); err != nil {
		d.Log.Warn("unreadable download sidecar: the download is left to admins", "id", id, "error", err)
		return
	}
	st.User, st.ChannelID, st.SessionID, st.Speed, st.Start, st.End = m.User, m.ChannelID, m.SessionID, m.Speed, m.Start, m.End
}

// Start asks sipserver for a download session of ch between start and end
// at speed, owned by user, and records it in the background. audit is
// called once the session exists and before ffmpeg reads it; its error
// ends the session and is returned. Once Close began it answers
// ErrShuttingDown; a Start in flight then ends its session again.
func (d *Downloads) Start(ctx context.Context, user string, ch store.Channel, start, end time.Time, speed int,
	audit func(DownloadStatus) error,
) (DownloadStatus, error) {
	if d.Signer == nil {
		return DownloadStatus{}, ErrPlayDisabled
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return DownloadStatus{}, fmt.Errorf("download of %s: %w", ch.ID, ErrShuttingDown)
	}
	if d.running >= d.MaxRunning {
		d.mu.Unlock()
		return DownloadStatus{}, ErrTooManyDownloads
	}
	// Reserved now: concurrent requests must not overshoot the limit, and
	// Close waits for this Start and the recorder it may start.
	d.running++
	d.wg.Add(1)
	d.mu.Unlock()
	release := func() {
		d.mu.Lock()
		d.running--
		d.mu.Unlock()
		d.wg.Done()
	}
	sess, err := d.Sip.CreateSession(ctx, sipapi.SessionRequest{
		Kind: sipapi.KindDownload, ChannelID: ch.ID, Start: start, End: end, Speed: speed, Owner: user,
	})
	if err != nil {
		release()
		return DownloadStatus{}, err
	}
	if d.ctx.Err() != nil {
		// Close began while sipserver made the session: nobody will record it.
		endSession(d.ctx, d.Sip, sess.ID, d.Log)
		release()
		return DownloadStatus{}, fmt.Errorf("download of %s: %w", ch.ID, ErrShuttingDown)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	st := &DownloadStatus{
		ID: hex.EncodeToString(b), State: DownloadRunning, ChannelID: ch.ID, SessionID: sess.ID,
		Start: &start, End: &end, Speed: speed, User: user,
	}
	if audit != nil {
		if err := audit(*st); err != nil {
			endSession(d.ctx, d.Sip, sess.ID, d.Log)
			release()
			return DownloadStatus{}, err
		}
	}
	rctx, stop := context.WithCancel(d.ctx)
	d.mu.Lock()
	d.items[st.ID] = st
	d.cancels[st.ID] = stop
	d.mu.Unlock()
	// The answer is taken before the recorder starts writing to st.
	answer := *st
	go func() {
		defer release()
		defer stop()
		err := d.record(rctx, st, sess, end.Sub(start))
		d.mu.Lock()
		st.finished = time.Now()
		delete(d.cancels, st.ID)
		if err != nil {
			st.State, st.Error = DownloadFailed, err.Error()
		} else {
			st.State, st.Progress = DownloadDone, 1
		}
		bytes := st.Bytes
		d.mu.Unlock()
		if err != nil {
			_ = os.Remove(d.meta(st.ID))
			d.Log.Warn("download failed", "id", st.ID, "channel_id", ch.ID, "session_id", sess.ID, "user", user, "error", err)
		} else {
			d.Log.Info("download done", "id", st.ID, "channel_id", ch.ID, "session_id", sess.ID, "user", user, "bytes", bytes)
		}
	}()
	return answer, nil
}

// record runs ffmpeg on the session's stream into the download's file
// until it ends or ctx is cancelled (Remove, Close).
func (d *Downloads) record(ctx context.Context, st *DownloadStatus, sess sipapi.Session, length time.Duration) error {
	// The device must stop sending whatever happens here; ending a session
	// that already ended (the device's MediaStatus 121) is harmless.
	defer endSession(d.ctx, d.Sip, sess.ID, d.Log)
	// The sidecar carries the owner across a restart.
	if err := d.writeMeta(st); err != nil {
		d.Log.Warn("write download sidecar: after a restart only admins reach the file", "id", st.ID, "error", err)
	}
	err := d.recordFile(ctx, st, sess, length)
	switch {
	case err == nil:
		return nil
	case d.ctx.Err() != nil:
		return errors.New("console stopped")
	case ctx.Err() != nil:
		return errors.New("download stopped")
	}
	return err
}

// recordFile is record's work: ffmpeg writes <id>.mp4.part, renamed to
// <id>.mp4 once complete; a failed run leaves no file.
func (d *Downloads) recordFile(ctx context.Context, st *DownloadStatus, sess sipapi.Session, length time.Duration) error {
	if err := d.waitActive(ctx, sess); err != nil {
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
	cmd := exec.CommandContext(ctx, d.FFmpeg, ffmpegArgs(src, part)...)
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
	case ctx.Err() != nil:
		_ = os.Remove(part)
		return ctx.Err()
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

// waitActive waits until sipserver says the device is sending. A session
// that already ended after it had been active is good too: mediagw holds a
// download stream, buffered from its first packet, until its first reader
// has read it all (a short download at 4× can be over before ffmpeg
// connects). Only a session that ended without ever sending fails.
func (d *Downloads) waitActive(ctx context.Context, sess sipapi.Session) error {
	ctx, cancel := context.WithTimeout(ctx, activeWait)
	defer cancel()
	for sess.State == store.SessionInviting {
		select {
		case <-ctx.Done():
			return fmt.Errorf("download session %s not active after %s", sess.ID, activeWait)
		case <-time.After(activePoll):
		}
		var err error
		if sess, err = d.Sip.GetSession(ctx, sess.ID); err != nil {
			return err
		}
	}
	if sess.State == store.SessionEnded && sess.ActiveAt == nil {
		return fmt.Errorf("download session %s ended before the device sent anything: %s", sess.ID, sess.EndReason)
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
// (finished before a restart) is done; its sidecar names the owner.
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
	st = DownloadStatus{ID: id, State: DownloadDone, Progress: 1, Bytes: info.Size()}
	d.readMeta(id, &st)
	return st, nil
}

// Remove stops a running download — its partial file is dropped, and it
// stays, failed with "download stopped", until the cleaner forgets it — or
// removes a finished download's file and forgets the download.
func (d *Downloads) Remove(id string) error {
	if !downloadIDPattern.MatchString(id) {
		return fmt.Errorf("download %q: %w", id, store.ErrNotFound)
	}
	d.mu.Lock()
	if stop, running := d.cancels[id]; running {
		d.mu.Unlock()
		stop()
		return nil // record ends it: state failed, "download stopped"
	}
	delete(d.items, id)
	d.mu.Unlock()
	err := os.Remove(d.file(id))
	_ = os.Remove(d.meta(id))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove download %s: %w", id, err)
	}
	return nil
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
