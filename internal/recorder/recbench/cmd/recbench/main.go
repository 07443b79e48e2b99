// Command recbench measures the recorder (issue 14's figures): in "compare"
// mode, for each stream count N, our stack (sipserver, mediagw, recorder,
// PostgreSQL, gbsim with N cameras) and mediamtx (N RTSP publishers of the
// same clip, record on, fMP4) run side by side, and the CPU and bytes
// written of every process are read from /proc over a fixed window after a
// warm-up; in "scale" mode our stack runs alone and N grows until a window
// shows a gap or the machine saturates. scripts/bench-recorder.sh builds
// and runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/recbench"
)

type options struct {
	mode      string
	bin       string
	mediamtx  string
	streams   []int
	warmup    time.Duration
	window    time.Duration
	cache     string
	work      string
	keep      bool
	mtxTCP    bool
	sharedUDP bool
	clip      recbench.ClipSpec
	ffmpeg    string
	results   string
	readyWait time.Duration
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(log, os.Args[1:]); err != nil {
		log.Error("recbench failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string) error {
	o := options{clip: recbench.ClipSpec{Size: "1920x1080", Bitrate: 2_000_000, Seconds: 20}}
	fs := flag.NewFlagSet("recbench", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "compare", "compare (our stack beside mediamtx) or scale (our stack alone, N grows until a gap)")
	fs.StringVar(&o.bin, "bin", "bin", "directory with sipserver, mediagw, recorder and gbsim")
	fs.StringVar(&o.mediamtx, "mediamtx", "", "mediamtx binary (compare mode; empty: our stack alone)")
	streams := fs.String("streams", "16,50,100", "stream counts, comma-separated, in order")
	fs.DurationVar(&o.warmup, "warmup", 30*time.Second, "time after every stream is recording before the window")
	fs.DurationVar(&o.window, "window", 60*time.Second, "measurement window")
	fs.StringVar(&o.cache, "cache", filepath.Join(os.TempDir(), "recbench-cache"), "clip cache (also gbsim's -cache-dir)")
	fs.StringVar(&o.work, "work", "", "work directory (default: a new temporary one, removed at the end)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (recordings, logs)")
	fs.BoolVar(&o.mtxTCP, "mediamtx-tcp", false, "publish to mediamtx over TCP instead of UDP")
	fs.BoolVar(&o.sharedUDP, "shared-udp", false,
		"cameras send to mediagw's one shared RTP port (as mediamtx's publishers share its UDP port) instead of a port each")
	fs.StringVar(&o.clip.Size, "size", o.clip.Size, "clip size WxH")
	fs.IntVar(&o.clip.Bitrate, "bitrate", o.clip.Bitrate, "clip video bitrate, bit/s")
	fs.StringVar(&o.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary (clip generation)")
	fs.StringVar(&o.results, "results", "", "append one JSON line per run to this file")
	fs.DurationVar(&o.readyWait, "ready-wait", 4*time.Minute, "bound on every stream being recorded after the start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-streams: %q", s)
		}
		o.streams = append(o.streams, n)
	}
	if o.mode != "compare" && o.mode != "scale" {
		return fmt.Errorf("-mode %q: want compare or scale", o.mode)
	}
	if o.mode == "compare" && o.mediamtx == "" {
		log.Warn("no -mediamtx: compare runs measure our stack alone")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	video, audio, err := recbench.MakeClip(ctx, o.ffmpeg, o.cache, o.clip)
	if err != nil {
		return err
	}
	clip, err := recbench.LoadClip(video, audio)
	if err != nil {
		return err
	}
	log.Info("clip", "file", video, "frames", len(clip.Frames),
		"video_kbit_s", clip.Bytes*8*recbench.FrameRate/len(clip.Frames)/1000)

	if o.work == "" {
		if o.work, err = os.MkdirTemp("", "recbench-"); err != nil {
			return err
		}
		// PostgreSQL runs as its own user (pgcluster): it must reach its
		// data directory inside.
		if err := os.Chmod(o.work, 0o755); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(o.work)
		}
	}
	for _, n := range o.streams {
		r, err := runOne(ctx, log, &o, clip, n)
		if err != nil {
			return fmt.Errorf("%d streams: %w", n, err)
		}
		r.print(os.Stdout)
		if o.results != "" {
			if err := appendJSON(o.results, r); err != nil {
				return err
			}
		}
		if o.mode == "scale" && !r.NoGap {
			log.Info("scale: stopping at the first stream count with a gap or a loss", "streams", n)
			break
		}
	}
	return nil
}

func appendJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}
