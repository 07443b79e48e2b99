// Package web is the operators' single-page web UI of the console, embedded in
// the binary: hand-written ES modules, HTML and CSS with no build step.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed static
var staticFS embed.FS

// contentTypes fixes the types of the assets we ship, so they do not depend
// on the host's mime.types (a wrong type makes the browser refuse a module).
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".json":  "application/json",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".txt":   "text/plain; charset=utf-8",
	".woff2": "font/woff2",
}

// csp allows our own scripts only. Media and WHEP signalling go to mediagw,
// whose address the page learns from the API, hence media-src and
// connect-src stay open; style attributes are set by the scripts.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"media-src * blob:; connect-src *; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

type handler struct {
	files fs.FS
	once  sync.Once
	cache map[string]*asset
}

// Handler serves the UI: the embedded assets, and index.html for every other
// path without a file extension so that deep links such as /playback work.
// Directories are never listed.
func Handler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		// The embed pattern guarantees the directory; this cannot happen.
		panic(err)
	}
	return &handler{files: sub}
}

// load reads every embedded file once. Assets have no content hash in their
// names (no build step), so they are revalidated with an ETag instead of
// cached for long.
func (h *handler) load() {
	h.cache = map[string]*asset{}
	_ = fs.WalkDir(h.files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(h.files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		h.cache[p] = &asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
}

func (h *handler) isDir(p string) bool {
	if p == "." {
		return true
	}
	st, err := fs.Stat(h.files, p)
	return err == nil && st.IsDir()
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.load)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	if strings.HasPrefix(clean+"/", "/api/") {
		// API routes belong to the API handler; never answer them with the page.
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(clean, "/")
	if name == "" {
		name = "index.html"
	}
	a, ok := h.cache[name]
	switch {
	case ok:
	case h.isDir(name):
		http.NotFound(w, r)
		return
	case path.Ext(name) == "":
		// A client-side route: the app decides what to show.
		a = h.cache["index.html"]
		name = "index.html"
	default:
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", a.etag)
	if name == "index.html" {
		hdr.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Content-Security-Policy", csp)
		hdr.Set("Referrer-Policy", "same-origin")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.body)
}
