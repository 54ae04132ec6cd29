# Koe. `make help` lists the targets.
.DEFAULT_GOAL := help
GO ?= go

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

deps: ## install the speech engines (espeak-ng, Flite, Festival, Open JTalk), encoders (lame, opus-tools) and what the helpers build with (libespeak-ng-dev, flite1-dev, gcc) if missing (Debian)
	@scripts/deps.sh

web: ## build the studio (web/.output/public) when it is missing or web/ changed; needs Node.js, skipped without it
	@scripts/web-build.sh >/dev/null

run: deps ## the whole product on the embedded defaults (SQLite, ./data, the engines): the studio at /, Playground at /playground
	@web="$${KOE_WEB_DIR-$$(scripts/web-build.sh)}" || exit 1; \
	$(MAKE) -s helpers >&2; \
	KOE_WEB_DIR="$$web" KOE_ESPEAK_HELPER="$${KOE_ESPEAK_HELPER-$(CURDIR)/bin/koe-espeak}" \
	KOE_FLITE_HELPER="$${KOE_FLITE_HELPER-$(CURDIR)/bin/koe-flite}" $(GO) run .

build: helpers ## build the koe binary (static) and the engine helpers
	CGO_ENABLED=0 $(GO) build -trimpath -o koe .

helpers: ## build bin/koe-espeak and bin/koe-flite, which keep espeak-ng and Flite warm (cgo, libespeak-ng-dev and flite1-dev: make deps); without them each chunk starts the engine's program
	CGO_ENABLED=1 $(GO) build -trimpath -o bin/ ./cmd/koe-espeak ./cmd/koe-flite

generate: ## regenerate gqlgen code from graph/schema.graphqls
	$(GO) generate ./...

test: ## the whole test suite: deps, PostgreSQL, gofmt, vet, generated code, go test -race
	@scripts/test.sh

test-race: test ## same as test (the suite always runs with -race)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

bench: deps ## the benchmarks of BENCHMARKS.md
	KOE_TEST_DATABASE_URL=$$(scripts/postgres.sh) $(GO) test -run '^$$' -bench . -benchtime 3s ./...

.PHONY: help deps web run build helpers generate test test-race lint bench
