// Package recbench measures what recording costs: the CPU of mediagw and the
// recorder per recorded stream beside mediamtx recording the same content in
// the same run, the bytes written per byte received, and how many streams two
// cores record with no gap.
//
// The package holds the parts (reading /proc, the shared clip, an RTSP
// publisher for mediamtx); cmd/recbench starts the processes and reports.
// Nothing here runs under go test except the parsers' own tests:
// scripts/bench-recorder.sh (make bench-recorder) runs the benchmark.
package recbench
