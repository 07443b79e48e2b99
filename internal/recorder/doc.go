// Package recorder is the recording service. So far it keeps the schema migrated and
// serves its probes and metrics; recording, retention and playback follow.
package recorder
