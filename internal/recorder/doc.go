// Package recorder is the recording service. So far it checks the schema the
// sipserver owns and serves its probes and metrics; recording, retention and
// playback follow.
package recorder
