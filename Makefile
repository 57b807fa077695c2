# sseaudit build, test and measurement targets. `make test` is what CI runs.
GO        ?= go
BIN       := bin/sseaudit
PKGS      := ./...
# Fuzz time per fuzz target: short in `make test`, longer in `make fuzz`.
FUZZTIME_SHORT ?= 5s
FUZZTIME       ?= 2m
BENCHCOUNT     ?= 6

.PHONY: all build test vet unit fuzz fuzz-short bench demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sseaudit

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

# Everything CI runs: format and vet, unit tests under the race detector, a
# short run of every fuzz target, and the binary builds.
test: vet unit fuzz-short build

fuzz-short:
	FUZZTIME=$(FUZZTIME_SHORT) ./scripts/fuzz.sh

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Benchmarks are compared as ratios against baselines measured in the same
# run (see scripts/bench.sh); results land in bench/.
bench:
	BENCHCOUNT=$(BENCHCOUNT) ./scripts/bench.sh

demo: build
	./scripts/demo.sh

clean:
	rm -rf bin bench
