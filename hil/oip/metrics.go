package oip

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics. Names follow Prometheus's
// conventions: a tandem_server_ prefix, base units, _total for counters.
type metrics struct {
	requests       *prometheus.CounterVec // by endpoint and status code
	requestSeconds *prometheus.HistogramVec
	queued         prometheus.Gauge
	queueSeconds   prometheus.Histogram
	computeSeconds prometheus.Histogram
	batchSamples   prometheus.Histogram
	samples        prometheus.Counter
	dropped        *prometheus.CounterVec // queued jobs not run, by reason
	rejected       *prometheus.CounterVec // requests refused before queueing, by reason
}

func newMetrics(reg prometheus.Registerer, model string) *metrics {
	labels := prometheus.Labels{"model": model}
	latency := prometheus.ExponentialBuckets(50e-6, 2, 16) // 50 µs to 1.6 s
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_server_requests_total", Help: "HTTP requests answered, by endpoint and status code.", ConstLabels: labels,
		}, []string{"endpoint", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tandem_server_request_duration_seconds", Help: "Time from receiving a request to answering it.", ConstLabels: labels, Buckets: latency,
		}, []string{"endpoint"}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tandem_server_queued_requests", Help: "Inference requests waiting for a batch.", ConstLabels: labels,
		}),
		queueSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tandem_server_queue_duration_seconds", Help: "Time an inference request waited before its batch ran.", ConstLabels: labels, Buckets: latency,
		}),
		computeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tandem_server_compute_duration_seconds", Help: "Time the model took to run one batch.", ConstLabels: labels, Buckets: latency,
		}),
		batchSamples: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tandem_server_batch_samples", Help: "Samples in each batch the model ran.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tandem_server_inferred_samples_total", Help: "Samples the model has answered.", ConstLabels: labels,
		}),
	}
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tandem_server_dropped_requests_total", ConstLabels: labels,
		Help: "Queued inference requests (or parts of split ones) not run because their client had gone (cancelled) or their time was up (deadline).",
	}, []string{"reason"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tandem_server_rejected_requests_total", ConstLabels: labels,
		Help: "Inference requests refused before queueing: queue_full (answered 503), too_many_samples (413), closed (503 while draining).",
	}, []string{"reason"})
	reg.MustRegister(m.requests, m.requestSeconds, m.queued, m.queueSeconds, m.computeSeconds, m.batchSamples, m.samples, m.dropped, m.rejected)
	return m
}
