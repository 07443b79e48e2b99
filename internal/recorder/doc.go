// Package recorder is the recording service: Run wires the recorder's
// parts together. The parts are packages of their own — capture (records
// one channel from mediagw's RTSP into fMP4 segments), segment (the fMP4
// writer and scanner), repair (finishes what a crash left), scheduler
// (which node records which channel, through leases), sweeper (retention)
// and capacity (the storage alarm) — over the recordings index
// (store/recordingdb) and the object store (objstore).
package recorder
