# Koe. `make help` lists the targets.
.DEFAULT_GOAL := help
GO ?= go

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

deps: ## install the speech engines (espeak-ng, Flite, Festival, Open JTalk), encoders (lame, opus-tools) and what koe-espeak builds with (libespeak-ng-dev, gcc) if missing (Debian)
	@scripts/deps.sh

web: ## build the studio (web/.output/public) when it is missing or web/ changed; needs Node.js, skipped without it
	@scripts/web-build.sh >/dev/null

run: deps ## the whole product on the embedded defaults (SQLite, ./data, the engines): the studio at /, Playground at /playground
	@web="$${KOE_WEB_DIR-$$(scripts/web-build.sh)}" || exit 1; \
	helper="$${KOE_ESPEAK_HELPER-$$($(MAKE) -s espeak-helper >&2 && echo $(CURDIR)/bin/koe-espeak)}"; \
	KOE_WEB_DIR="$$web" KOE_ESPEAK_HELPER="$$helper" $(GO) run .

build: espeak-helper ## build the koe binary (static) and bin/koe-espeak
	CGO_ENABLED=0 $(GO) build -trimpath -o koe .

espeak-helper: ## build bin/koe-espeak, which keeps espeak-ng warm (cgo and libespeak-ng-dev, from make deps); without it espeak-ng starts a process per chunk
	CGO_ENABLED=1 $(GO) build -trimpath -o bin/koe-espeak ./cmd/koe-espeak

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

.PHONY: help deps web run build espeak-helper generate test test-race lint bench
