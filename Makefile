# sharpeyes — the two commands that matter: `make run` and `make test`.
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0
# Fuzz budget per target as an execution count: a duration (-fuzztime=10s) trips
# golang/go#75804 in Go 1.26, a spurious "context deadline exceeded" at the deadline.
FUZZTIME ?= 200000x
TEST_TIMEOUT ?= 30m
SERVICES := sipserver mediagw recorder console

.PHONY: all build run test test-unit test-fuzz bench lint cover clean

all: build

build:
	@mkdir -p bin
	$(GO) build -o bin/ $(addprefix ./cmd/,$(SERVICES)) ./cmd/gbsim

## run: build and start the whole stack and gbsim with 16 cameras (private PostgreSQL when SHARPEYES_DATABASE_URL is unset)
run: build
	@scripts/run-stack.sh

## test: everything — unit and integration tests (race detector on), then every fuzz target for $(FUZZTIME) executions
test: test-unit test-fuzz

test-unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

test-fuzz:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh

## bench: benchmarks with allocations; figures go to docs/benchmarks.md
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

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
