# sseaudit build, test and measurement targets. `make test` is what CI runs.
GO        ?= go
BIN       := bin/sseaudit
PKGS      := ./...
# Fuzz time per fuzz target: short in `make test`, longer in `make fuzz`.
FUZZTIME_SHORT ?= 5s
FUZZTIME       ?= 2m
BENCHCOUNT     ?= 6

.PHONY: sdk-suites sdk-suites-short bench-commits bench-kms all build test vet lint unit fuzz fuzz-short bench scale-bench demo clean

all: build

# The version every report names: the git commit (plus -dirty for a
# modified tree), passed to the linker so it holds however the toolchain
# is configured (GOFLAGS=-buildvcs=false drops Go's own VCS stamp).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/sseaudit

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	cd deploy && $(GO) vet ./...

# staticcheck (its default checks) and deadcode, built from the pinned
# tools module so their dependencies never touch sseaudit's own.
lint:
	cd tools && $(GO) build -o ../bin/staticcheck honnef.co/go/tools/cmd/staticcheck && $(GO) build -o ../bin/deadcode golang.org/x/tools/cmd/deadcode
	./bin/staticcheck ./...
	@dead=$$(./bin/deadcode -test ./...); if [ -n "$$dead" ]; then echo "deadcode: unreachable functions:"; echo "$$dead"; exit 1; fi

unit:
	$(GO) test -race -count=1 $(PKGS)
	# Corrupted-database reads abort under -race's checkptr (see the test).
	$(GO) test -count=1 -run '^TestCorruptMetaDB$$' ./reference/objstore
	cd deploy && $(GO) test -count=1 ./...

# Everything CI runs: format and vet, staticcheck and deadcode, unit tests
# under the race detector, a short run of every fuzz target, and the binary
# builds.
test: vet lint unit fuzz-short build

fuzz-short:
	FUZZTIME=$(FUZZTIME_SHORT) ./scripts/fuzz.sh

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Benchmarks are compared as ratios against baselines measured in the same
# run (see scripts/bench.sh); results land in bench/. ONLY=stream runs only
# the stream format's set and its 0.90x check (with and without VAES).
bench:
	BENCHCOUNT=$(BENCHCOUNT) ONLY=$(ONLY) ./scripts/bench.sh

# Issue 13's SSE-KMS target: PUT+GET of 64 MiB with SSE-KMS at least
# 0.92x of plain, the minimum over ROUNDS runs (default 6), plain and
# SSE-KMS interleaved in every run (scripts/bench-kms.sh). Results in
# bench/serverkms*.
bench-kms:
	./scripts/bench-kms.sh

# One package's benchmarks at two commits, interleaved in one run
# (BASE=commit, default HEAD~1; PKG, BENCH, ROUNDS: see the script).
bench-commits:
	./scripts/bench-commits.sh $(or $(BASE),HEAD~1)

# Evaluation and reports at scale (issue 11): scan and audit
# --from-snapshot of synthetic estates up to 10M objects against the
# engine's own benchmark on the same file, peak RSS, report sizes per
# finding and a headless Chromium load (about 2.5 hours of CPU on 2 cores,
# most of it the three 10M-object unencrypted runs per layout; SHAPES,
# MIXES and ROUNDS narrow it, see the script). Results in bench/scale-*.
scale-bench:
	./scripts/scale-bench.sh

# The clients' own suites, unmodified, against `sseaudit serve` (issue 13):
# aliyun-oss-go-sdk, alibabacloud-oss-go-sdk-v2 (integration) and minio-go's
# functional tests, from the module cache at go.mod's versions, in a
# loopback-only network namespace. SUITES=v1,v2,minio narrows it; MIN_RATE
# gates the OSS suites. Results in bench/sdk-suites-*.
sdk-suites:
	./scripts/sdk-suites.sh

sdk-suites-short:
	SHORT=1 ./scripts/sdk-suites.sh

demo: build
	./scripts/demo.sh

clean:
	rm -rf bin bench
