// Package archtest holds the tests that keep the module's layout honest:
// which packages may import which. It has no code of its own; its test runs
// `go list` on the module and fails on an import the design forbids (see
// docs/architecture.md):
//
//   - the writes of an aggregate are reachable only from the service that
//     owns it: store/sipdb from the sipserver, store/consoledb from the
//     console;
//   - mediagw links no database or test code (pgx, goose, the cluster
//     launcher, package testing);
//   - pkg/ imports nothing from internal/;
//   - services (internal/<svc> and cmd/<svc> of sipserver, console, mediagw,
//     recorder) never import each other: they meet over HTTP, PostgreSQL
//     and the contract packages.
package archtest
