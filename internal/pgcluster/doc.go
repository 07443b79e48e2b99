// Package pgcluster runs a private PostgreSQL cluster from the installed
// binaries: the development stack (`make run`) uses it when no database URL
// is configured, and pgtest builds the tests' databases on it. Ensure starts
// a cluster in a data directory, or reuses the one already running there, on
// a free loopback port with trust authentication.
//
// PostgreSQL refuses to run as root; when the process is root the cluster
// runs as the "postgres" system user that the Debian/Ubuntu packages create.
package pgcluster
