# tandem's make targets. `make test` is the one command that sets a fresh
# machine up (Go modules, OpenBLAS, Fashion-MNIST, the ONNX Runtime library,
# the mnist digits) and runs every check CI runs.

GO       ?= go
FUZZTIME ?= 10s
STATICCHECK_VERSION ?= v0.8.2

.PHONY: sim test setup check vet staticcheck unit race fuzz bench build

sim:
	$(GO) run ./cmd/tandem sim

build:
	$(GO) build -o bin/tandem ./cmd/tandem

setup:
	bash scripts/setup.sh

test: setup check

check: vet staticcheck unit race fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

unit:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags noopenblas ./dnn/

# Packages with concurrent code run again under the race detector.
race:
	$(GO) test -count=1 -race -short ./sim/ ./hil/ ./dnn/ ./cmd/...

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
