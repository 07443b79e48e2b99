package archtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const module = "github.com/sharpeyes/sharpeyes"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// list runs `go list -json args...` at the module root and decodes its stream of packages.
func list(t *testing.T, args ...string) []pkg {
	t.Helper()
	root := strings.TrimSpace(run(t, "go", "env", "GOMOD"))
	root = strings.TrimSuffix(root, "/go.mod")
	if root == "" || root == "/dev/null" {
		t.Fatal("not inside the module")
	}
	cmd := exec.Command("go", append([]string{"list", "-json=ImportPath,Imports,Deps"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// under reports whether import path p is dir or below it.
func under(p, dir string) bool {
	return p == module+"/"+dir || strings.HasPrefix(p, module+"/"+dir+"/")
}

// TestImports checks the non-test imports of every package of the module.
func TestImports(t *testing.T) {
	rules := []struct {
		name string
		// forbidden reports whether importer may not import imported.
		forbidden func(importer, imported string) bool
	}{
		{"the sipserver's writes (store/sipdb) only from the sipserver", func(from, to string) bool {
			return under(to, "internal/store/sipdb") && !under(from, "internal/store/sipdb") &&
				!under(from, "internal/sipserver") && !under(from, "cmd/sipserver")
		}},
		{"the console's writes (store/consoledb) only from the console", func(from, to string) bool {
			return under(to, "internal/store/consoledb") && !under(from, "internal/store/consoledb") &&
				!under(from, "internal/console") && !under(from, "cmd/console")
		}},
		{"pkg/ imports nothing from internal/", func(from, to string) bool {
			return under(from, "pkg") && under(to, "internal")
		}},
		{"services never import each other", func(from, to string) bool {
			services := []string{"internal/sipserver", "internal/console", "internal/mediagw", "internal/recorder"}
			for _, a := range services {
				for _, b := range services {
					if a != b && under(from, a) && under(to, b) {
						return true
					}
				}
			}
			return false
		}},
	}
	for _, p := range list(t, "./...") {
		for _, imp := range p.Imports {
			for _, r := range rules {
				if r.forbidden(p.ImportPath, imp) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.name)
				}
			}
		}
	}
}

// TestMediagwLinksNoDatabase: mediagw has no database, so its binary links
// no database driver, migration tool, cluster launcher or test code.
func TestMediagwLinksNoDatabase(t *testing.T) {
	forbidden := []string{
		"github.com/jackc/pgx", "github.com/pressly/goose", "testing",
		module + "/internal/pgtest", module + "/internal/pgcluster", module + "/internal/store", module + "/internal/svcdb",
	}
	for _, p := range list(t, "-deps", "./cmd/mediagw") {
		for _, f := range forbidden {
			if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
				t.Errorf("cmd/mediagw links %s", p.ImportPath)
			}
		}
	}
}
