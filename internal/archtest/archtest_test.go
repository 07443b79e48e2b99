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

// services are the binaries that meet only over HTTP and PostgreSQL.
var services = []string{"sipserver", "console", "mediagw", "recorder"}

// serviceOf returns the service whose code import path p is (its
// internal/<svc> tree or its cmd/<svc>), or "".
func serviceOf(p string) string {
	for _, s := range services {
		if under(p, "internal/"+s) || under(p, "cmd/"+s) {
			return s
		}
	}
	return ""
}

// importRules are the imports the design forbids.
var importRules = []struct {
	name string
	// forbidden reports whether importer may not import imported.
	forbidden func(importer, imported string) bool
}{
	{"the sipserver's writes (store/sipdb) only from the sipserver", func(from, to string) bool {
		return under(to, "internal/store/sipdb") && !under(from, "internal/store/sipdb") && serviceOf(from) != "sipserver"
	}},
	{"the console's writes (store/consoledb) only from the console", func(from, to string) bool {
		return under(to, "internal/store/consoledb") && !under(from, "internal/store/consoledb") && serviceOf(from) != "console"
	}},
	{"pkg/ imports nothing from internal/", func(from, to string) bool {
		return under(from, "pkg") && under(to, "internal")
	}},
	{"services never import each other", func(from, to string) bool {
		a, b := serviceOf(from), serviceOf(to)
		return a != "" && b != "" && a != b
	}},
}

// TestImportRules checks the rules themselves on one import each way, so
// that TestImports cannot pass by a rule that forbids nothing.
func TestImportRules(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	for _, tc := range []struct {
		from, to  string
		forbidden bool
	}{
		{"internal/console", "internal/store/sipdb", true},
		{"internal/sipserver/x", "internal/store/sipdb", false},
		{"cmd/sipserver", "internal/store/sipdb", false},
		{"internal/mediagw", "internal/store/consoledb", true},
		{"cmd/console", "internal/store/consoledb", false},
		{"pkg/gb28181/ps", "internal/testsupport", true},
		{"pkg/gb28181/ps", "pkg/gb28181/rtpin", false},
		{"cmd/console", "internal/sipserver", true},
		{"internal/mediagw/hub", "internal/console/auth", true},
		{"internal/recorder", "internal/store", false},
		{"internal/e2e", "internal/sipserver", false},
	} {
		got := false
		for _, r := range importRules {
			got = got || r.forbidden(m(tc.from), m(tc.to))
		}
		if got != tc.forbidden {
			t.Errorf("%s → %s: forbidden = %v, want %v", tc.from, tc.to, got, tc.forbidden)
		}
	}
}

// TestImports checks the non-test imports of every package of the module.
func TestImports(t *testing.T) {
	for _, p := range list(t, "./...") {
		for _, imp := range p.Imports {
			for _, r := range importRules {
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
