// Command gbsim simulates GB/T 28181 devices (N devices × M cameras) against
// any GB28181 platform: registration with digest, keepalives, MANSCDP
// answers, subscriptions and PS-over-RTP streams, with fault injection.
// Run "gbsim -help" for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sharpeyes/sharpeyes/internal/gbsim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cfg := gbsim.DefaultConfig()
	fs := flag.NewFlagSet("gbsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterFlags(fs)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "gbsim: -log-level %q: %v\n", *level, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gbsim.Run(ctx, cfg, log); err != nil {
		log.Error("gbsim failed", "err", err)
		return 1
	}
	return 0
}
