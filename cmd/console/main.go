// Command console runs the sharpeyes console service; see README.md and configs/console.yaml.
package main

import (
	"os"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console"
)

func main() {
	os.Exit(cli.Main[config.Console]("console", os.Args[1:], os.Stdout, os.Stderr, console.Run))
}
