package hil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/tandem-edge/tandem/dnn/data"
)

// ORTVersion is the ONNX Runtime release that scripts/setup.sh fetches (from
// the npm package onnxruntime-node) into the cache.
const ORTVersion = "1.30.0"

// ErrORTNotFound is wrapped by the error of InitORT when no ONNX Runtime
// library was found anywhere it is looked for.
var ErrORTNotFound = errors.New("hil: ONNX Runtime library not found")

// howToGetORT ends every error about a missing or unloadable library.
const howToGetORT = "run scripts/setup.sh to fetch ONNX Runtime " + ORTVersion +
	" into the cache, or set ONNXRUNTIME_LIB to the path of a libonnxruntime shared library"

// ORTInfo says which ONNX Runtime this process runs.
type ORTInfo struct {
	Library string // the path or name the library was loaded from
	Version string // as the library reports it, e.g. 1.30.0
}

// ortEnv is the process's one ONNX Runtime environment: onnxruntime_go keeps
// it in package state, and it cannot be set up twice, so the first outcome,
// failure included, is kept for every later caller.
var ortEnv struct {
	once sync.Once
	info ORTInfo
	err  error
}

// InitORT loads the ONNX Runtime library and sets up its environment, once
// per process; later calls return the first call's outcome. The library is
//   - the file $ONNXRUNTIME_LIB, when set;
//   - else CachedORTPath in tandem's cache, when that file exists;
//   - else the system's libonnxruntime, found by the dynamic loader.
func InitORT() (ORTInfo, error) {
	ortEnv.once.Do(func() {
		ortEnv.info, ortEnv.err = initORT()
	})
	return ortEnv.info, ortEnv.err
}

func initORT() (ORTInfo, error) {
	lib, err := findORT()
	if err != nil {
		return ORTInfo{}, err
	}
	ort.SetSharedLibraryPath(lib.path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		if lib.from == fromSystem {
			cache, _ := CachedORTPath()
			return ORTInfo{}, fmt.Errorf("%w: ONNXRUNTIME_LIB is not set, %s does not exist, and the system has none (%v); %s",
				ErrORTNotFound, cache, err, howToGetORT)
		}
		return ORTInfo{}, fmt.Errorf("hil: loading ONNX Runtime from %s (%s): %v; %s", lib.path, lib.from, err, howToGetORT)
	}
	return ORTInfo{Library: lib.path, Version: ort.GetVersion()}, nil
}

// Where a library came from, for error messages.
const (
	fromEnv    = "$ONNXRUNTIME_LIB"
	fromCache  = "tandem's cache"
	fromSystem = "the system"
)

type ortLibrary struct {
	path string
	from string
}

// findORT picks the library InitORT loads; see there.
func findORT() (ortLibrary, error) {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ortLibrary{}, fmt.Errorf("%w: ONNXRUNTIME_LIB is %s: %v; %s", ErrORTNotFound, p, pathError(err), howToGetORT)
		}
		return ortLibrary{p, fromEnv}, nil
	}
	cached, err := CachedORTPath()
	if err == nil {
		if _, err := os.Stat(cached); err == nil {
			return ortLibrary{cached, fromCache}, nil
		}
	}
	name := "libonnxruntime.so"
	if runtime.GOOS == "darwin" {
		name = "libonnxruntime.dylib"
	}
	return ortLibrary{name, fromSystem}, nil
}

// CachedORTPath is where scripts/setup.sh puts the ONNX Runtime library for
// this platform:
//
//	CACHE/onnxruntime/1.30.0/<goos>-<goarch>/libonnxruntime.so.1   (libonnxruntime.1.dylib on darwin)
//
// CACHE being data.CacheDir().
func CachedORTPath() (string, error) {
	cache, err := data.CacheDir()
	if err != nil {
		return "", err
	}
	file := "libonnxruntime.so.1"
	if runtime.GOOS == "darwin" {
		file = "libonnxruntime.1.dylib"
	}
	return filepath.Join(cache, "onnxruntime", ORTVersion, runtime.GOOS+"-"+runtime.GOARCH, file), nil
}

// pathError drops the path an *os.PathError repeats.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
