package export

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the runner's Prometheus metrics.
type Metrics struct {
	jobs    *prometheus.CounterVec
	bytes   prometheus.Counter
	running prometheus.Gauge
}

// NewMetrics registers the runner's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recorder_exports_total",
			Help: "Export jobs finished by this node, by source and result (done, failed, stopped).",
		}, []string{"source", "result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_export_bytes_total",
			Help: "Bytes of export files written by this node.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "recorder_exports_running",
			Help: "Export jobs running on this node.",
		}),
	}
	reg.MustRegister(m.jobs, m.bytes, m.running)
	return m
}
