// Command console runs the sharpeyes console service; see README.md and configs/console.yaml.
//
// "console -seed-examples" instead seeds the example departments and
// operators of `make run` (console.SeedExamples) and exits.
package main

import (
	"os"
	"slices"

	"github.com/sharpeyes/sharpeyes/internal/cli"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console"
)

func main() {
	args, run := os.Args[1:], console.Run
	if i := slices.IndexFunc(args, func(a string) bool { return a == "-seed-examples" || a == "--seed-examples" }); i >= 0 {
		args, run = slices.Delete(args, i, i+1), console.SeedExamplesRun(os.Stdout)
	}
	os.Exit(cli.Main[config.Console]("console", args, os.Stdout, os.Stderr, run))
}
