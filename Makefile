# sharpeyes — the two commands that matter: `make run` and `make test`.
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0
# Fuzz budget per target as an execution count: a duration (-fuzztime=10s) trips
# golang/go#75804 in Go 1.26, a spurious "context deadline exceeded" at the deadline.
FUZZTIME ?= 200000x
TEST_TIMEOUT ?= 30m
SERVICES := sipserver mediagw recorder console

.PHONY: all deps build run run-lower test test-unit test-fuzz bench bench-slices bench-recorder lint cover clean

all: build

## deps: install what run and test need, only what is missing (both run it first; root needs no sudo)
deps:
	@scripts/install-deps.sh

## build: the binaries into bin/, saying what it does (module downloads, compile progress)
build:
	@GO="$(GO)" scripts/build.sh $(SERVICES) gbsim

# run and test call make again for the steps after deps, so that deps comes
# first even under make -j (make 4.3 has no .WAIT).

## run: install what is missing, build, start the whole stack and gbsim with 16 cameras; Ctrl-C stops it all
## (private PostgreSQL when SHARPEYES_DATABASE_URL is unset)
run: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-stack.sh

## run-lower: with `make run` up in another terminal, a second stack — a county platform with 4 cameras of its
## own — registered to it as a lower platform (国标级联), sharing its cameras; Ctrl-C stops only this one
run-lower:
	@scripts/run-lower.sh

## test: install what is missing, then everything — unit and integration tests (race detector on), then every
## fuzz target for $(FUZZTIME) executions
test: deps
	@$(MAKE) --no-print-directory test-unit test-fuzz

test-unit:
	@GO="$(GO)" scripts/build.sh modules
	@echo "test: go vet ./... (the first run compiles every package: minutes)"
	$(GO) vet ./...
	@echo "test: go test -race ./... (each package reports when it finishes; the first run compiles them all again with the race detector)"
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

test-fuzz:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh

## bench: benchmarks with allocations; figures go to docs/benchmarks.md
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

## bench-slices: issue 13's permission-slice figures alone (100 000 channels, 2 000 departments, 5 000 grants;
## the data set builds in a few seconds, only under these benchmarks)
bench-slices:
	$(GO) test -run='^$$' -bench='^BenchmarkSlices$$' -benchtime=200x ./internal/store/catalogview
	$(GO) test -run='^$$' -bench='^BenchmarkSliceRoutes$$' -benchtime=50x ./internal/console

## bench-recorder: issue 14's recorder figures — our stack beside mediamtx v1.20 at 16/50/100 streams, then our
## stack alone until a 3-minute window shows a gap (about 30 minutes; see scripts/bench-recorder.sh)
bench-recorder:
	@scripts/bench-recorder.sh

## cover: statement coverage of pkg/gb28181 (goal ≥ 85 %)
cover:
	$(GO) test -count=1 -coverprofile=coverage.out ./pkg/...
	$(GO) tool cover -func=coverage.out | tail -1

## lint: golangci-lint at a pinned version (installed into $(shell $(GO) env GOPATH)/bin on first use)
lint:
	@command -v golangci-lint >/dev/null 2>&1 && golangci-lint version 2>/dev/null | grep -q "$(GOLANGCI_LINT_VERSION:v%=%)" || \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" golangci-lint run ./...

clean:
	rm -rf bin coverage.out
