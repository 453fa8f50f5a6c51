// Package split chooses where to cut the heavy model between an edge device
// and the cloud, Neurosurgeon-style partial offloading: the device runs the
// model's first layers, sends the one tensor that crosses the cut, and the
// cloud runs the rest. It owns the cut points a graph allows and the
// latency of a request cut at each, from the two devices' profiled
// per-layer times and the link (Points), the two models a cut makes
// (Parts), and a split scenario's deployment as the simulator and a real
// run both carry it out (For); it does no I/O.
package split

import (
	"fmt"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/profiles"
)

// Link is what a cut tensor crosses: the uplink's and downlink's rates,
// the round trip, and the bytes HTTP adds to a request's tensor and an
// answer puts on the wire (the serving path's, as the cloud profile
// measured them).
type Link struct {
	UplinkMbps, DownlinkMbps float64
	RTT                      time.Duration
	RequestOverhead          int // a request's bytes beyond its tensor's
	ResponseBytes            int
}

// Point is the latency of one request cut after node After ("" for
// nothing on the device, the whole model in the cloud; the last node for
// the whole model on the device).
type Point struct {
	After       string        `json:"after"`
	Layers      int           `json:"edge_layers"`  // nodes run on the device
	TensorBytes int           `json:"tensor_bytes"` // the cut tensor, float32; 0 when nothing is sent
	Edge        time.Duration `json:"edge_ns"`      // the device's share of the model
	Uplink      time.Duration `json:"uplink_ns"`    // the request on the wire, framed, and its acknowledgements' return
	Cloud       time.Duration `json:"cloud_ns"`     // the cloud's share, with the serving path's overhead
	Downlink    time.Duration `json:"downlink_ns"`  // the answer, and half the round trip each way
	Total       time.Duration `json:"total_ns"`

	// Each side's share of its device's measured per-layer time.
	edgeShare, cloudShare float64
}

// Points returns the latency of an unqueued request cut at every point
// g allows, in the order of g's nodes: before the first node, after each
// node past which exactly one tensor is still needed, and after the last.
// edge and cloud are g's profiles on the two devices; each layer's share
// of a device's back-to-back latency is its share of the per-layer times
// the profile measured (layers the profile lacks count 0). overhead is
// the cloud's serving path cost per request.
func Points(g *dnn.Graph, edge, cloud *profiles.Model, overhead time.Duration, l Link) ([]Point, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	if !(l.UplinkMbps > 0) || !(l.DownlinkMbps > 0) {
		return nil, fmt.Errorf("split: uplink %g and downlink %g Mbit/s: want both > 0", l.UplinkMbps, l.DownlinkMbps)
	}
	eLayers, eSum, err := layerTimes(g, edge)
	if err != nil {
		return nil, err
	}
	cLayers, cSum, err := layerTimes(g, cloud)
	if err != nil {
		return nil, err
	}
	// last[t] is the index of the last node reading tensor t.
	last := map[string]int{}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			last[in] = i
		}
	}
	wire := func(bytes int, mbps float64) time.Duration {
		return time.Duration(float64(bytes) * 8 / (mbps * 1e6) * float64(time.Second))
	}
	point := func(k int, tensor string) Point {
		p := Point{Layers: k + 1}
		if k >= 0 {
			p.After = g.Nodes[k].Name
		}
		var e, c time.Duration
		for i := range g.Nodes {
			if i <= k {
				e += eLayers[i]
			} else {
				c += cLayers[i]
			}
		}
		// The layers' part of the back-to-back latency, exactly the whole
		// of it at either end.
		p.edgeShare, p.cloudShare = float64(e)/float64(eSum), float64(c)/float64(cSum)
		p.Edge = time.Duration(int64(e) * int64(edge.Latency) / int64(eSum))
		if k < len(g.Nodes)-1 {
			p.TensorBytes = 4 * numel(shapes[tensor])
			req := p.TensorBytes + l.RequestOverhead
			p.Uplink = wire(profiles.FramedBytes(req)+profiles.AckBytes(l.ResponseBytes), l.UplinkMbps)
			p.Cloud = time.Duration(int64(c)*int64(cloud.Latency)/int64(cSum)) + overhead
			p.Downlink = wire(profiles.FramedBytes(l.ResponseBytes)+profiles.AckBytes(req), l.DownlinkMbps) + l.RTT
		}
		p.Total = p.Edge + p.Uplink + p.Cloud + p.Downlink
		return p
	}
	points := []Point{point(-1, g.Input)}
	for k, n := range g.Nodes {
		if k == len(g.Nodes)-1 {
			points = append(points, point(k, ""))
			break
		}
		// The cut after k is clean when nothing made before n is read
		// after it: only n's output crosses.
		clean := true
		for t, at := range last {
			if at > k && t != n.Name && madeBy(g, t) <= k {
				clean = false
				break
			}
		}
		if clean {
			points = append(points, point(k, n.Name))
		}
	}
	return points, nil
}

// Best is the point of least total latency, the earliest of equals.
func Best(points []Point) Point {
	best := points[0]
	for _, p := range points[1:] {
		if p.Total < best.Total {
			best = p
		}
	}
	return best
}

// madeBy is the index of the node producing tensor t, -1 for the input.
func madeBy(g *dnn.Graph, t string) int {
	for i, n := range g.Nodes {
		if n.Name == t {
			return i
		}
	}
	return -1
}

// layerTimes is each node's measured time in m's per-layer profile and
// their sum (layers the profile lacks count 0).
func layerTimes(g *dnn.Graph, m *profiles.Model) ([]time.Duration, time.Duration, error) {
	by := map[string]time.Duration{}
	var all time.Duration
	for _, l := range m.Layers {
		by[l.Name] += l.Latency
		all += l.Latency
	}
	if all <= 0 {
		return nil, 0, fmt.Errorf("split: %s: the profile has no per-layer times to cut the model by", m.Name)
	}
	out := make([]time.Duration, len(g.Nodes))
	var sum time.Duration
	for i, n := range g.Nodes {
		out[i] = by[n.Name]
		sum += out[i]
	}
	if float64(sum) < 0.9*float64(all) {
		return nil, 0, fmt.Errorf("split: %s: only %.0f%% of the profile's per-layer time is on layers of the graph: a profile of another model", m.Name, 100*float64(sum)/float64(all))
	}
	return out, sum, nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Cut is where a request of g is cut after node After: the cut tensor and
// each side's share of its device's measured per-layer time.
type Cut struct {
	After       string
	TensorBytes int
	EdgeShare   float64 // of the edge profile's per-layer time
	CloudShare  float64 // of the cloud profile's
}

// CutAfter is g cut after node after, which must be a clean cut point
// short of the last node (Points lists them).
func CutAfter(g *dnn.Graph, edge, cloud *profiles.Model, after string) (Cut, error) {
	points, err := Points(g, edge, cloud, 0, Link{UplinkMbps: 1, DownlinkMbps: 1})
	if err != nil {
		return Cut{}, err
	}
	var names []string
	for _, p := range points[1 : len(points)-1] {
		if p.After == after {
			return Cut{After: after, TensorBytes: p.TensorBytes, EdgeShare: p.edgeShare, CloudShare: p.cloudShare}, nil
		}
		names = append(names, p.After)
	}
	return Cut{}, fmt.Errorf("split: %s cannot be cut after %q: want one of %v (tandem split lists them with their latencies)", g.Name, after, names)
}

// Models are the profiles of the two parts of a model cut at c: the
// device's part, the edge profile's model with every latency (its cold
// curve included) scaled to its share, and the cloud's, the cloud profile's
// scaled likewise (its batch curve too), each serving path keeping its
// overhead over the model.
func Models(edge, cloud *profiles.Model, c Cut) (device, server *profiles.Model) {
	d := edge.Stretched(c.EdgeShare)
	d.Name, d.Layers = edge.Name+" up to "+c.After, nil
	s := cloud.Stretched(c.CloudShare)
	s.Name, s.Layers = cloud.Name+" after "+c.After, nil
	for i := range s.Serving {
		s.Serving[i].Latency = s.Latency + (cloud.Serving[i].Latency - cloud.Latency)
	}
	return &d, &s
}

// RequestOverhead is what an HTTP request over protocol adds to its tensor
// and what its answer puts on the wire, as the cloud profile's serving path
// measured them for inputs of inputBytes; ok is false without such a
// measurement.
func RequestOverhead(cloud *profiles.Model, protocol string, inputBytes int) (overhead, response int, ok bool) {
	for _, s := range cloud.Serving {
		if s.Protocol == protocol && s.RequestBytes > 0 {
			return max(s.RequestBytes-inputBytes, 0), s.ResponseBytes, true
		}
	}
	return 0, 0, false
}
