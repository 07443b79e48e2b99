// Command sipserver runs the sharpeyes sipserver service; see README.md and configs/sipserver.yaml.
package main

import (
	"os"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/sipserver"
)

func main() {
	os.Exit(cli.Main[config.Sipserver]("sipserver", os.Args[1:], os.Stdout, os.Stderr, sipserver.Run))
}
