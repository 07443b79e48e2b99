// Package store is the PostgreSQL access of the sharpeyes services: a pgx pool,
// the schema migrations embedded in the binary (applied on Open), and one file
// per aggregate: devices, registrations (the sipserver's batched registration,
// keepalive and restore paths), channels, device status log, alarms and mobile
// positions. Change events are published with NOTIFY inside the writing
// transaction and received with Listen (notify.go).
package store
