package scenarios

import (
	"fmt"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// Marshal writes s as a scenario file with every default filled in, its keys
// in the schema's order: what `tandem scenario show` prints for users to
// start their own from. Keys a kind needs are written even when zero (a
// threshold of 0); keys whose zero means something carry a comment saying
// what. Decoding the output gives s back.
func Marshal(s *Scenario) ([]byte, error) {
	c := *s
	c.SetDefaults()
	b, err := strictyaml.Marshal(&c, strictyaml.EncodeOptions{
		Keep: func(path string) bool {
			switch path {
			case "link.downlink_mbps":
				return c.Link.DownlinkTrace == ""
			case "link.request_bytes", "link.response_bytes":
				return true
			case "policy.p":
				return c.Policy.Kind == PolicyRandom
			case "policy.threshold":
				return c.Policy.Kind == PolicyThreshold
			case "policy.lambda":
				return c.Policy.Kind == PolicyCostAware
			}
			return false
		},
		Comment: func(path string) string {
			switch {
			case path == "link.downlink_mbps" && c.Link.DownlinkMbps == 0:
				return "# 0: as the uplink"
			case path == "link.request_bytes" && c.Link.RequestBytes == 0:
				return "# 0: what the cloud profile measured a request puts on the wire"
			case path == "link.response_bytes" && c.Link.ResponseBytes == 0:
				return "# 0: what the cloud profile measured an answer puts on the wire"
			}
			return ""
		},
	})
	if err != nil {
		return nil, fmt.Errorf("scenarios: scenario %q: %w", s.Name, err)
	}
	return b, nil
}
