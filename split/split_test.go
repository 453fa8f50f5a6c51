package split

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/profiles"
)

// profileOf gives every node of g the same time, total back to back.
func profileOf(g *dnn.Graph, total time.Duration) *profiles.Model {
	m := &profiles.Model{Name: g.Name, Latency: total}
	for _, n := range g.Nodes {
		m.Layers = append(m.Layers, profiles.Layer{Name: n.Name, Latency: time.Microsecond})
	}
	return m
}

func TestPoints(t *testing.T) {
	g, err := dnn.Zoo("resnet", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := len(g.Nodes)
	edge, cloud := profileOf(g, time.Duration(n)*time.Millisecond), profileOf(g, time.Duration(n)*100*time.Microsecond)
	l := Link{UplinkMbps: 8, DownlinkMbps: 8, RTT: 20 * time.Millisecond, RequestOverhead: 300, ResponseBytes: 400}
	points, err := Points(g, edge, cloud, time.Millisecond, l)
	if err != nil {
		t.Fatal(err)
	}
	first, last := points[0], points[len(points)-1]
	if first.After != "" || first.Layers != 0 || first.TensorBytes != 4*28*28 || first.Edge != 0 || first.Cloud != time.Duration(n)*100*time.Microsecond+time.Millisecond {
		t.Errorf("cloud-only point %+v", first)
	}
	if last.After != g.Nodes[n-1].Name || last.TensorBytes != 0 || last.Total != time.Duration(n)*time.Millisecond {
		t.Errorf("edge-only point %+v", last)
	}
	// The input's 3 136 bytes and 300 of HTTP, framed, and the answer's
	// acknowledgements, at 8 Mbit/s.
	wantUp := time.Duration(float64(profiles.FramedBytes(4*28*28+300)+profiles.AckBytes(400)) * 8 / 8e6 * float64(time.Second))
	if first.Uplink != wantUp {
		t.Errorf("cloud-only uplink %v, want %v", first.Uplink, wantUp)
	}
	for _, p := range points[1 : len(points)-1] {
		// A cut inside a residual block would leave two tensors crossing.
		if strings.Contains(p.After, "conv") && strings.Contains(p.After, "layer") {
			t.Errorf("cut after %s, inside a residual block", p.After)
		}
		if p.Edge+p.Uplink+p.Cloud+p.Downlink != p.Total || p.TensorBytes <= 0 {
			t.Errorf("point %+v", p)
		}
	}
	if best := Best(points); best.Total > first.Total || best.Total > last.Total {
		t.Errorf("best %+v is slower than an end", best)
	}
	// A slow device on a fast link sends its input: every tensor a cut
	// could send is larger than the input until the pooled features, which
	// come after nearly all of the work.
	slow := profileOf(g, 200*time.Millisecond)
	points, err = Points(g, slow, cloud, time.Millisecond, Link{UplinkMbps: 100, DownlinkMbps: 100, RTT: time.Millisecond, ResponseBytes: 400})
	if err != nil {
		t.Fatal(err)
	}
	if best := Best(points); best.After != "" {
		t.Errorf("a slow device on a fast link: best %+v, want cloud-only", best)
	}
}

func TestPointsRefusesAnotherModelsProfile(t *testing.T) {
	g, err := dnn.Zoo("resnet", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	other := &profiles.Model{Name: "other", Latency: time.Millisecond, Layers: []profiles.Layer{{Name: "x", Latency: time.Millisecond}}}
	_, err = Points(g, other, profileOf(g, time.Millisecond), 0, Link{UplinkMbps: 1, DownlinkMbps: 1})
	if err == nil || !strings.Contains(err.Error(), "a profile of another model") {
		t.Errorf("error %v", err)
	}
}

func TestPartsComposeToTheModel(t *testing.T) {
	g, err := dnn.Zoo("resnet", []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	g.InputMean, g.InputStd = []float32{0.3}, []float32{0.4}
	const n = 3
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	whole := forward(t, g, x, n)
	points, err := Points(g, profileOf(g, time.Millisecond), profileOf(g, time.Millisecond), 0, Link{UplinkMbps: 1, DownlinkMbps: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points[1 : len(points)-1] {
		device, cloud, err := Parts(g, p.After)
		if err != nil {
			t.Fatalf("cut after %s: %v", p.After, err)
		}
		if device.Classes*4 != p.TensorBytes || cloud.Classes != g.Classes || cloud.InputMean != nil {
			t.Errorf("cut after %s: device gives %d values, cloud %d logits, want %d bytes and %d", p.After, device.Classes, cloud.Classes, p.TensorBytes, g.Classes)
		}
		// The cloud's part takes the device's raw output: no normalisation
		// between the two.
		got := forward(t, cloud, forward(t, device, x, n), n)
		for i := range whole {
			if d := got[i] - whole[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("cut after %s: logit %d is %g, the whole model's %g", p.After, i, got[i], whole[i])
			}
		}
	}
	inside := "" // a node inside a residual block, whose input is still read past it
	for _, nd := range g.Nodes {
		if strings.Contains(nd.Name, "layer") && strings.Contains(nd.Name, "conv") {
			inside = nd.Name
			break
		}
	}
	for _, bad := range []string{"nope", g.Output(), inside} {
		if _, _, err := Parts(g, bad); err == nil {
			t.Errorf("cut after %q: no error", bad)
		}
	}
}

func forward(t *testing.T, g *dnn.Graph, x []float32, n int) []float32 {
	t.Helper()
	net, err := dnn.NewNet(g, n)
	if err != nil {
		t.Fatalf("%s: %v", g.Name, err)
	}
	out := make([]float32, n*g.Classes)
	net.Forward(out, x, n, false)
	return out
}
