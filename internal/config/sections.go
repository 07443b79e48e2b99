package config

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Log configures log/slog output.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text (human readable) or json (for log collectors).
	Format string `yaml:"format"`
}

func (l *Log) setDefaults() { *l = Log{Level: "info", Format: "text"} }

func (l Log) validate() error {
	var errs []error
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		errs = append(errs, fieldErr("log.level", "must be debug, info, warn or error, got %q", l.Level))
	}
	if !slices.Contains([]string{"text", "json"}, l.Format) {
		errs = append(errs, fieldErr("log.format", "must be text or json, got %q", l.Format))
	}
	return errors.Join(errs...)
}

// HTTP configures a service's HTTP listener (API, health probes and /metrics).
type HTTP struct {
	// Listen is the host:port to listen on; an empty host means every interface.
	Listen string `yaml:"listen"`
	// ReadHeaderTimeout bounds how long a client may take to send request headers.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
}

func (h *HTTP) setDefaults(listen string) {
	*h = HTTP{Listen: listen, ReadHeaderTimeout: Duration(10 * time.Second)}
}

func (h HTTP) validate() error {
	var errs []error
	if err := validateListen(h.Listen); err != nil {
		errs = append(errs, fieldErr("http.listen", "%v", err))
	}
	if h.ReadHeaderTimeout <= 0 {
		errs = append(errs, fieldErr("http.read_header_timeout", "must be positive, got %s", h.ReadHeaderTimeout))
	}
	return errors.Join(errs...)
}

// Database configures the PostgreSQL connection shared by the services.
type Database struct {
	// URL is a postgres:// connection URL. Empty means: start (or reuse) a private
	// development cluster from the installed PostgreSQL binaries under DataDir.
	URL DatabaseURL `yaml:"url"`
	// DataDir holds the private development cluster when URL is empty.
	DataDir string `yaml:"data_dir"`
	// MaxConns bounds the connection pool of this service.
	MaxConns int32 `yaml:"max_conns"`
	// ConnectTimeout bounds connecting (and starting the private cluster) at start;
	// a service that does not own the schema also waits this long for the owner
	// (sipserver) to bring it to the version it needs.
	ConnectTimeout Duration `yaml:"connect_timeout"`
}

func (d *Database) setDefaults() {
	*d = Database{DataDir: "var/pgdata", MaxConns: 10, ConnectTimeout: Duration(30 * time.Second)}
}

func (d Database) validate() error {
	var errs []error
	if d.URL != "" {
		u, err := url.Parse(string(d.URL))
		switch {
		case err != nil:
			errs = append(errs, fieldErr("database.url", "not a URL: %v", err))
		case u.Scheme != "postgres" && u.Scheme != "postgresql":
			errs = append(errs, fieldErr("database.url", "scheme must be postgres:// or postgresql://, got %q", u.Scheme))
		}
	} else if d.DataDir == "" {
		errs = append(errs, fieldErr("database.data_dir", "must be set when database.url is empty (the private cluster lives there)"))
	}
	if d.MaxConns < 1 || d.MaxConns > 1000 {
		errs = append(errs, fieldErr("database.max_conns", "must be between 1 and 1000, got %d", d.MaxConns))
	}
	if d.ConnectTimeout <= 0 {
		errs = append(errs, fieldErr("database.connect_timeout", "must be positive, got %s", d.ConnectTimeout))
	}
	return errors.Join(errs...)
}

func validateListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("must be host:port, e.g. :8080 or 127.0.0.1:8080")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("port must be a number from 0 to 65535")
	}
	return nil
}
