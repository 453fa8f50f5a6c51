package predict

import (
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/profiles"
)

func zoo(t testing.TB, arch string) *dnn.Graph {
	t.Helper()
	g, err := dnn.Zoo(arch, []int{1, 28, 28}, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestLayerSpecs(t *testing.T) {
	g := zoo(t, "vgg")
	specs, err := LayerSpecs(g)
	if err != nil {
		t.Fatal(err)
	}
	conv2 := specs[3]
	if conv2.Op != "Conv" || conv2.InC != 16 || conv2.OutC != 32 || conv2.H != 28 || conv2.W != 28 ||
		conv2.KH != 3 || conv2.Stride != 1 || conv2.Groups != 1 || conv2.FLOPs != 2*32*16*9*28*28 {
		t.Errorf("conv2 spec %+v", conv2)
	}
	in := g.Node("fc").W.Shape[1]
	if fc := specs[len(specs)-1]; fc.Op != "Gemm" || fc.InC != in || fc.OutC != 10 || fc.H != 1 || fc.FLOPs != int64(2*10*in) {
		t.Errorf("fc spec %+v, want a Gemm of %d to 10 features", fc, in)
	}
}

func TestGraphWithoutPredictor(t *testing.T) {
	_, err := Graph(&profiles.Device{Name: "bare"}, zoo(t, "tiny"), 1)
	if err == nil || !strings.Contains(err.Error(), "bare") {
		t.Errorf("error %v, want one naming the device", err)
	}
}
