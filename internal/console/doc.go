// Package console is the operators' API and web UI service. So far it keeps the schema
// migrated and serves its probes and metrics; the API and UI follow.
package console
