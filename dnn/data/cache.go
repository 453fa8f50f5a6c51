package data

import (
	"errors"
	"os"
	"path/filepath"
)

// CacheDir is the folder where scripts/setup.sh puts what it fetches (the
// MNIST digits, the ONNX Runtime library) and where tandem looks for them:
// $TANDEM_CACHE, else $XDG_CACHE_HOME/tandem, else ~/.cache/tandem. The
// script computes the same path; change both together.
func CacheDir() (string, error) {
	if d := os.Getenv("TANDEM_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tandem"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("data: no cache folder: set TANDEM_CACHE, XDG_CACHE_HOME or HOME")
	}
	return filepath.Join(home, ".cache", "tandem"), nil
}
