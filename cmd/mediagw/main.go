// Command mediagw runs the sharpeyes mediagw service; see README.md and configs/mediagw.yaml.
package main

import (
	"os"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/mediagw"
)

func main() {
	os.Exit(cli.Main[config.Mediagw]("mediagw", os.Args[1:], os.Stdout, os.Stderr, mediagw.Run))
}
