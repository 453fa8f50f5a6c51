package deploy

// Figure is one number of a summary, named as tables and CSV files name it.
type Figure struct {
	Name string
	Of   func(*Summary) float64
}

// Figures are a summary's numbers, in the order reports list them: what
// comparisons, sweeps and reports read from a summary.
var Figures = []Figure{
	{"requests", func(s *Summary) float64 { return float64(s.Requests) }},
	{"completed", func(s *Summary) float64 { return float64(s.Completed) }},
	{"failed", func(s *Summary) float64 { return float64(s.Failed) }},
	{"accuracy", func(s *Summary) float64 { return s.Accuracy }},
	{"offload_rate", func(s *Summary) float64 { return s.OffloadRate }},
	{"latency_mean_ms", func(s *Summary) float64 { return s.LatencyMS.Mean }},
	{"latency_p50_ms", func(s *Summary) float64 { return s.LatencyMS.P50 }},
	{"latency_p95_ms", func(s *Summary) float64 { return s.LatencyMS.P95 }},
	{"latency_p99_ms", func(s *Summary) float64 { return s.LatencyMS.P99 }},
	{"latency_max_ms", func(s *Summary) float64 { return s.LatencyMS.Max }},
	{"throughput_rps", func(s *Summary) float64 { return s.ThroughputRPS }},
	{"utilization_edge", func(s *Summary) float64 { return s.Utilization.Edge }},
	{"utilization_uplink", func(s *Summary) float64 { return s.Utilization.Uplink }},
	{"utilization_cloud", func(s *Summary) float64 { return s.Utilization.Cloud }},
	{"accuracy_over_requests", func(s *Summary) float64 { return s.AccuracyOverRequests }},
}

// FigureIndex returns the position of the named figure in Figures, or -1.
func FigureIndex(name string) int {
	for i, f := range Figures {
		if f.Name == name {
			return i
		}
	}
	return -1
}
