# Parley's one entry point. `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
STATICCHECK_VERSION := v0.8.2
WASM := build/web/app.wasm
WASM_SRC := $(shell find app shared -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
ARGS ?=
# BROTLI is the quality of app.wasm.br: 11 (smallest, minutes on a busy
# machine) for what ships; make test asks for 5 (about a second), which is
# enough to serve and test it. build/compress keeps a better copy it already
# made for the same app.wasm.
BROTLI ?= 11
# The parley binary the integration and browser tests run, built once with
# -race for the whole test run (shared/testenv reads PARLEY_TEST_BINARY).
TEST_BIN := build/.test/parley

.DEFAULT_GOAL := help

.PHONY: help
help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: build ## build and start one node on http://localhost:8080 (data in ./data); ARGS='--addr :9000' for flags
	./build/parley $(ARGS)

.PHONY: build
build: wasm ## build/parley: one binary with the web app embedded
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o build/parley ./server/cmd/parley

.PHONY: wasm
wasm: $(WASM) ## build/web/app.wasm (+ .br/.gz at BROTLI quality, default 11), the browser app
	$(GO) run ./build/compress -quality $(BROTLI) $(WASM)

# app.wasm is built with Parley's js/wasm copies of a few go-app and
# coder/websocket files that leave net/http out (build/wasmpatch; about
# 2 MB raw): wasmpatch checks the upstream files and writes the workspace
# and -overlay file the build reads. Native builds use neither.
WASMPATCH := build/.wasmpatch
WASMPATCH_SRC := $(shell find build/wasmpatch -type f -not -name '*_test.go' 2>/dev/null)

$(WASM): $(WASM_SRC) $(WASMPATCH_SRC)
	$(GO) run ./build/wasmpatch -o $(WASMPATCH)
	GOWORK=$(CURDIR)/$(WASMPATCH)/go.work GOOS=js GOARCH=wasm $(GO) build -overlay $(WASMPATCH)/overlay.json -trimpath -ldflags='-s -w' -o $(WASM) ./app/cmd/wasm

.PHONY: wasm-size
wasm-size: wasm ## app.wasm's raw, gzip and brotli sizes, its sections and heaviest packages
	$(GO) run ./build/wasmsize -quality $(BROTLI) $(WASM)

.PHONY: lighthouse
lighthouse: build ## Lighthouse (desktop) against a fresh node: scores and metrics, report in build/test-artifacts
	build/scripts/lighthouse.sh build/parley

.PHONY: startup
startup: build ## start-up in headless Chromium: cold and repeat visits, medians of 10
	$(GO) run ./build/startup -binary build/parley

.PHONY: deps
deps: ## install test dependencies (redis, postgresql, chromium, nginx) with apt-get when missing
	./build/scripts/deps.sh

.PHONY: test
test: ## every test with -race, in phases (unit, integration, browser), then each benchmark once
	@GO=$(GO) build/scripts/test.sh

.PHONY: test-bin
test-bin: ## build/.test/parley: the race-enabled binary the tests run
	$(GO) build -race -o $(TEST_BIN) ./server/cmd/parley

.PHONY: soak
soak: deps ## the seeded fault run, long: STEPS=60 (default), SEED=N replays a schedule
	$(MAKE) --no-print-directory wasm test-bin BROTLI=5
	PARLEY_TEST_BINARY=$(CURDIR)/$(TEST_BIN) PARLEY_FAULT_STEPS=$(or $(STEPS),60) $(if $(SEED),PARLEY_FAULT_SEED=$(SEED)) \
		$(GO) test -race -count=1 -timeout 90m -run '^TestFaults$$' -v ./server/cluster

.PHONY: bench
bench: deps wasm ## benchmarks with real numbers
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

.PHONY: bench-cluster
bench-cluster: ## load-test this tree against BASE (default main) side by side: fanout 200/2000, idle; DURATION, IDLE, JSON, SHAPES, ROUNDS, PROFILES, PEER=centrifugo
	@GO=$(GO) build/scripts/bench-cluster.sh

.PHONY: centrifugo-check
centrifugo-check: ## the load generator against a real Centrifugo v6.9.1 (built once into build/.tools; minutes): the bench peer's test, not in CI
	PARLEY_CENTRIFUGO=$$(GO=$(GO) build/scripts/centrifugo.sh) && $(MAKE) --no-print-directory test-bin && \
		PARLEY_CENTRIFUGO=$$PARLEY_CENTRIFUGO PARLEY_TEST_BINARY=$(CURDIR)/$(TEST_BIN) $(GO) test -race -count=1 -tags centrifugo -run '^TestCentrifugoPeerDelivers$$' ./build/benchcluster

.PHONY: fuzz
fuzz: ## fuzz the frame decoder for 60s
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./shared/protocol

.PHONY: lint
lint: ## gofmt, go vet (native, js/wasm, and js/wasm with build/wasmpatch), staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./app/... ./shared/...
	$(GO) run ./build/wasmpatch -o $(WASMPATCH)
	GOWORK=$(CURDIR)/$(WASMPATCH)/go.work GOOS=js GOARCH=wasm $(GO) vet -overlay $(WASMPATCH)/overlay.json ./app/... ./shared/...
	GOBIN=$(CURDIR)/build/.tools GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	./build/.tools/staticcheck ./...
	GOOS=js GOARCH=wasm ./build/.tools/staticcheck ./app/... ./shared/...

.PHONY: clean
clean: ## remove build outputs
	rm -rf build/parley build/web/app.wasm* build/test-artifacts build/.test build/.wasmpatch
