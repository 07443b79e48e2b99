// Package cli is the common main of every sharpeyes service: flags, configuration,
// logging and signal handling, so that cmd/<service>/main.go stays a few lines.
package cli

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

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/logging"
	"github.com/sharpeyes/sharpeyes/internal/metrics"
)

// RunFunc runs a service until ctx is cancelled.
type RunFunc[C any] func(ctx context.Context, cfg *C, log *slog.Logger) error

// Main parses args (without the program name), loads the configuration, and runs
// the service until SIGINT or SIGTERM. It returns the process exit code:
// 0 on a clean stop, 1 when the service failed, 2 on bad flags or configuration.
func Main[C any, PC interface {
	*C
	config.Service
}](service string, args []string, stdout, stderr io.Writer, run RunFunc[C]) int {
	fs := flag.NewFlagSet(service, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file (see configs/"+service+".yaml); defaults apply without one")
	printCfg := fs.Bool("print-config", false, "print the effective configuration (secrets masked) and exit")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [flags]\n\nEvery setting can also be given as an environment variable:\n", service)
		for _, k := range config.EnvKeys(PC(new(C))) {
			fmt.Fprintf(stderr, "  %s\n", k)
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", service, fs.Args())
		return 2
	}
	if *version {
		fmt.Fprintf(stdout, "%s %s\n", service, metrics.Version())
		return 0
	}

	cfg := PC(new(C))
	warnings, err := config.Load(*cfgPath, cfg, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", service, err)
		return 2
	}
	if *printCfg {
		if err := config.Print(stdout, cfg); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", service, err)
			return 1
		}
		return 0
	}
	log, err := logging.New(cfg.LogConfig(), service, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", service, err)
		return 2
	}
	for _, w := range warnings {
		log.Warn(w)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("starting", "version", metrics.Version(), "config", *cfgPath)
	if err := run(ctx, (*C)(cfg), log); err != nil {
		log.Error("stopped with an error", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
