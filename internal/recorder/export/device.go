package export

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Device export settings (as the console's former download had them).
const (
	// DefaultDeviceSpeed is the download speed asked of the device.
	DefaultDeviceSpeed = 4
	// activeWait bounds the wait for the download session to become
	// active before ffmpeg reads it.
	activeWait = 15 * time.Second
	// activePoll is how often sipserver is asked meanwhile.
	activePoll = 200 * time.Millisecond
	// ffmpegIOTimeout ends a device export whose stream stopped sending.
	ffmpegIOTimeout = 15 * time.Second
	// endSessionTimeout bounds ending the session.
	endSessionTimeout = 10 * time.Second
	// deviceTokenTTL is the play token's lifetime: ffmpeg connects once, at the start.
	deviceTokenTTL = 5 * time.Minute
	// nearlyComplete is the progress from which a device export whose
	// ffmpeg failed at the very end (the device hung up before ffmpeg's
	// last read) still counts as done.
	nearlyComplete = 0.98
)

// device records the job's range from the device's own records: a
// download session from sipserver, read by ffmpeg from mediagw's RTSP
// server into the job's file (video copied, audio made AAC, since MP4 has
// no G.711). It returns the file's size.
func (r *Runner) device(ctx context.Context, j exportdb.Job, p *progress) (int64, error) {
	if r.Sip == nil || r.Tokens == nil || r.RTSPURL == "" {
		return 0, ErrNoDevice
	}
	speed := r.DeviceSpeed
	if speed <= 0 {
		speed = DefaultDeviceSpeed
	}
	sess, err := r.Sip.CreateSession(ctx, sipapi.SessionRequest{
		Kind: sipapi.KindDownload, ChannelID: j.ChannelID, Start: j.Start, End: j.End, Speed: speed, Owner: j.Owner,
	})
	if err != nil {
		return 0, fmt.Errorf("download session: %w", err)
	}
	// The device must stop sending whatever happens here; ending a session
	// that already ended (the device's MediaStatus 121) is harmless.
	defer r.endSession(sess.ID)
	if err := r.waitActive(ctx, sess); err != nil {
		return 0, err
	}
	tok, err := r.Tokens.PlayToken(ctx, mediaapi.PlayTokenRequest{
		Paths: []string{sess.Path}, Rights: []string{playtoken.RightDownload},
		Subject: j.Owner, TTL: deviceTokenTTL.String(),
	})
	if err != nil {
		return 0, fmt.Errorf("play token: %w", err)
	}
	key := Key(j.ID, r.Node)
	path, err := r.Store.WritePath(key)
	if err != nil {
		return 0, fmt.Errorf("export file: %w", err)
	}
	src := strings.TrimRight(r.RTSPURL, "/") + "/" + escapePath(sess.Path) + "?token=" + url.QueryEscape(tok.Token)
	n, err := r.ffmpeg(ctx, src, path, j.End.Sub(j.Start), p)
	if err != nil {
		return 0, err
	}
	if err := r.Store.Commit(ctx, key); err != nil {
		return 0, fmt.Errorf("commit export file: %w", err)
	}
	return n, nil
}

// endSession ends a download session, even while the runner closes.
func (r *Runner) endSession(id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), endSessionTimeout)
	defer cancel()
	if err := r.Sip.DeleteSession(ctx, id); err != nil && !errors.Is(err, svcapi.ErrNotFound) {
		r.Log.Warn("end download session", "session_id", id, "error", err)
	}
}

// waitActive waits until sipserver says the device is sending. A session
// that already ended after it had been active is good too: mediagw holds a
// download stream, buffered from its first packet, until its first reader
// has read it all. Only a session that ended without ever sending fails.
func (r *Runner) waitActive(ctx context.Context, sess sipapi.Session) error {
	ctx, cancel := context.WithTimeout(ctx, activeWait)
	defer cancel()
	t := time.NewTicker(activePoll)
	defer t.Stop()
	for sess.State == store.SessionInviting {
		select {
		case <-ctx.Done():
			return fmt.Errorf("download session %s not active after %s", sess.ID, activeWait)
		case <-t.C:
		}
		var err error
		if sess, err = r.Sip.GetSession(ctx, sess.ID); err != nil {
			return fmt.Errorf("download session %s: %w", sess.ID, err)
		}
	}
	if sess.State == store.SessionEnded && sess.ActiveAt == nil {
		return fmt.Errorf("download session %s ended before the device sent anything: %s", sess.ID, sess.EndReason)
	}
	return nil
}

// ffmpeg records src into path and returns the file's size.
func (r *Runner) ffmpeg(ctx context.Context, src, path string, length time.Duration, p *progress) (int64, error) {
	cmd := exec.CommandContext(ctx, r.FFmpeg, ffmpegArgs(src, path)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", r.FFmpeg, err)
	}
	frac, stopErr := readProgress(ctx, stdout, length, p)
	if stopErr != nil {
		_ = cmd.Process.Kill()
	}
	_, _ = io.Copy(io.Discard, stdout)
	runErr := cmd.Wait()
	info, statErr := os.Stat(path)
	switch {
	case stopErr != nil:
		return 0, stopErr
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case statErr != nil || info.Size() == 0:
		return 0, fmt.Errorf("ffmpeg wrote nothing: %s", stderr.String())
	case runErr != nil && frac < nearlyComplete:
		return 0, fmt.Errorf("ffmpeg: %w: %s", runErr, stderr.String())
	}
	return info.Size(), nil
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

// readProgress follows ffmpeg's -progress output (key=value lines) and
// reports it; it returns the last fraction, and ErrStopped when the job
// was deleted meanwhile.
func readProgress(ctx context.Context, rd io.Reader, length time.Duration, p *progress) (float64, error) {
	sc := bufio.NewScanner(rd)
	var frac float64
	var size int64
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
			frac = min(float64(us)/float64(length.Microseconds()), 1)
		case "total_size":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
				size = n
			}
		case "progress":
			if err := p.report(ctx, frac, size); err != nil {
				return frac, err
			}
		}
	}
	return frac, nil
}

// escapePath escapes each element of a stream path for a URL.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
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
// the input URL, and the text goes to the log and the job's error.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tokenParam.ReplaceAllString(string(bytes.TrimSpace(t.buf)), "${1}REDACTED")
}

// tokenParam matches the token query parameter of a URL.
var tokenParam = regexp.MustCompile(`([?&]token=)[^&\s"']+`)
