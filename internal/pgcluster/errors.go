package pgcluster

import "errors"

// ErrNoBinaries means initdb/pg_ctl were not found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: " +
	"install the postgresql package (Debian/Ubuntu: apt-get install postgresql) or set database.url")

// ErrNoUser means the process is root and there is no unprivileged user to run PostgreSQL as.
var ErrNoUser = errors.New(`running as root but there is no "postgres" user to run PostgreSQL as`)
