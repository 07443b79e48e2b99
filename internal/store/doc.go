// Package store is the PostgreSQL access of the sharpeyes services: a pgx pool,
// the schema migrations embedded in the binary (applied on Open), and one file
// per aggregate (devices, channels, device status log).
package store
