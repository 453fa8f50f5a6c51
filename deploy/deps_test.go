package deploy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the deployment's rules pure and below both
// drivers: deploy imports neither driver, no runtime and no network, and
// the policy core it builds on does not import the scenario schema.
func TestDependencies(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{".", []string{"github.com/tandem-edge/tandem/sim", "github.com/tandem-edge/tandem/hil", "github.com/tandem-edge/tandem/hil/...",
			"github.com/tandem-edge/tandem/dnn", "net", "net/http", "os/exec"}},
		{"../agents/offload", []string{"github.com/tandem-edge/tandem/scenarios"}},
		{"../hil/...", []string{"github.com/tandem-edge/tandem/sim"}},
	} {
		out, err := exec.Command("go", "list", "-deps", tc.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", tc.pkg, err, out)
		}
		for _, p := range strings.Fields(string(out)) {
			for _, f := range tc.forbidden {
				if p == f || strings.HasSuffix(f, "/...") && strings.HasPrefix(p, strings.TrimSuffix(f, "...")) {
					t.Errorf("%s depends on %s", tc.pkg, p)
				}
			}
		}
	}
}
