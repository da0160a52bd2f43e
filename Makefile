# Parley's one entry point. `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
STATICCHECK_VERSION := v0.8.2
WASM := build/web/app.wasm
WASM_SRC := $(shell find app shared -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
ARGS ?=

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
wasm: $(WASM) ## build/web/app.wasm (+ .br/.gz), the browser app

$(WASM): $(WASM_SRC)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WASM) ./app/cmd/wasm
	$(GO) run ./build/compress $(WASM)

.PHONY: deps
deps: ## install test dependencies (redis, postgresql, chromium, nginx) with apt-get when missing
	./build/scripts/deps.sh

.PHONY: test
test: deps wasm ## every test with -race (unit, integration, cluster, browser), then each benchmark once
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 ./...

.PHONY: bench
bench: deps wasm ## benchmarks with real numbers
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

.PHONY: fuzz
fuzz: ## fuzz the frame decoder for 60s
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./shared/protocol

.PHONY: lint
lint: ## gofmt, go vet (native and js/wasm), staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./app/... ./shared/...
	GOBIN=$(CURDIR)/build/.tools GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	./build/.tools/staticcheck ./...
	GOOS=js GOARCH=wasm ./build/.tools/staticcheck ./app/... ./shared/...

.PHONY: clean
clean: ## remove build outputs
	rm -rf build/parley build/web/app.wasm* build/test-artifacts
