// Command recorder runs the sharpeyes recorder service; see README.md and configs/recorder.yaml.
package main

import (
	"os"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/recorder"
)

func main() {
	os.Exit(cli.Main[config.Recorder]("recorder", os.Args[1:], os.Stdout, os.Stderr, recorder.Run))
}
