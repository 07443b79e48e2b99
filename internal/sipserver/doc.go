// Package sipserver is the GB28181 registrar and signalling service. So far it keeps the
// device schema migrated and serves its probes and metrics; SIP signalling follows.
package sipserver
