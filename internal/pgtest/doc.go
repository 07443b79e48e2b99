// Package pgtest runs a private PostgreSQL cluster from the installed binaries.
//
// The development stack (`make run`) uses it when no database URL is configured:
// Ensure starts a cluster in a data directory, or reuses the one already running
// there, on a free loopback port with trust authentication. Tests use NewDB, which
// starts one cluster per test process (stopped by Main) and gives every test a fresh
// database.
//
// PostgreSQL refuses to run as root; when the process is root the cluster runs as
// the "postgres" system user that the Debian/Ubuntu packages create.
package pgtest
