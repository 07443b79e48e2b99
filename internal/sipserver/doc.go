// Package sipserver is the GB28181 registrar and signalling service: SIP
// over UDP and TCP on one port, digest registration with server nonces,
// keepalive liveness kept in memory and written to PostgreSQL in batches,
// catalog synchronisation and subscriptions, queries and control of devices,
// alarms and positions, and the internal HTTP API console and mediagw use.
package sipserver
