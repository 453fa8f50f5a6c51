//go:build race

package hilcmd

// raceEnabled: the race detector slows ONNX Runtime's callers and the
// dataset's decoding tenfold.
const raceEnabled = true
