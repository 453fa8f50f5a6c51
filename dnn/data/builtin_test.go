package data

import (
	"errors"
	"os"
	"testing"
)

// loadBuiltin loads a built-in dataset. Under CI (CI=true) scripts/setup.sh
// has installed them, so a missing one fails the test; elsewhere it skips.
func loadBuiltin(t *testing.T, name string) *Dataset {
	t.Helper()
	d, err := Load(name, Options{})
	var nie *NotInstalledError
	if errors.As(err, &nie) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFashionMNIST(t *testing.T) {
	d := loadBuiltin(t, FashionMNIST)
	if d.Train.Len() != 60000 || d.Test.Len() != 10000 {
		t.Fatalf("%d training and %d test images, want 60000 and 10000", d.Train.Len(), d.Test.Len())
	}
	checkDigitsLike(t, d.Train)
	checkDigitsLike(t, d.Test)
	sp, err := d.Split(DefaultSplit)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 54000 || sp.Val.Len() != 6000 || sp.Test.Len() != 10000 {
		t.Errorf("default split %d/%d/%d, want 54000/6000/10000", sp.Train.Len(), sp.Val.Len(), sp.Test.Len())
	}
}

func TestMNIST(t *testing.T) {
	d := loadBuiltin(t, MNIST)
	if d.Train.Len() != 10000 || d.Test != nil {
		t.Fatalf("%d digits (test part %v), want 10000 and no test part", d.Train.Len(), d.Test)
	}
	checkDigitsLike(t, d.Train)
	sp, err := d.Split(DefaultSplit)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 7200 || sp.Val.Len() != 800 || sp.Test.Len() != 2000 {
		t.Errorf("default split %d/%d/%d, want 7200/800/2000", sp.Train.Len(), sp.Val.Len(), sp.Test.Len())
	}
	if !sp.Train.NoFlip || !sp.Test.NoFlip {
		t.Error("digits may be flipped in training: a mirrored digit is no digit")
	}
}

// checkDigitsLike checks what both built-ins share: 1x28x28 samples in [0, 1],
// ten classes each present.
func checkDigitsLike(t *testing.T, s *Set) {
	t.Helper()
	if CheckShape(s, []int{1, 28, 28}) != nil || s.Classes != 10 || len(s.X) != s.Len()*784 {
		t.Fatalf("%s: shape %v, %d classes, %d pixels for %d samples", s.Name, s.Shape, s.Classes, len(s.X), s.Len())
	}
	var count [10]int
	for _, y := range s.Y {
		count[y]++
	}
	for c, n := range count {
		if n == 0 {
			t.Errorf("%s: no sample of class %d", s.Name, c)
		}
	}
	lo, hi := s.X[0], s.X[0]
	for _, v := range s.X {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("%s: pixels span [%g, %g], want [0, 1]", s.Name, lo, hi)
	}
}
