# minidocker: thin wrappers over go and scripts/. Run as root: sudo make test
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)

.PHONY: all setup build test vet lint lint-mermaid mutate demo demo-app demo-steps bench clean exercise check check-exercises

all: build

setup:
	@bash scripts/setup.sh

build:
	$(GO) build ./...
	CGO_ENABLED=0 $(GO) build -o bin/minidocker ./final
	ln -sf minidocker bin/minidocker-runtime   # runc's command line (final/ociruntime)

vet:
	$(GO) vet ./...

# Every test, with privileged skips turned into failures, then the leak check.
# The leak check compares with what was there before the tests: a user's
# own minidocker (its minidocker0, its containers) is not a leak.
test: setup vet
	@bash scripts/check-leaks.sh --save .leaks-before
	MINIDOCKER_TEST_REQUIRE_ROOT=1 $(GO) test -count=1 -timeout 20m ./...
	@bash scripts/check-leaks.sh --since .leaks-before; rc=$$?; rm -f .leaks-before; exit $$rc

# The mutation test: each learner-style bug of internal/mutate/mutations.txt
# applied alone to a scratch copy of the tree and the tests it names run; it
# fails if a bug survives (its tests pass), no longer applies, does not build
# or hangs, and then if a test left anything behind. A weekly target, not part
# of make test: a full run (54 entries, each building and running a test
# package, after a baseline that runs each named test once unmutated) took 3
# minutes on this 2-core VM when quiet and 9 when loaded, so it would nearly
# double or triple make test's ~3.5 against CI's 15-minute budget, and it grows
# with each entry. make test still runs TestListApplies, so a list gone stale
# fails there at once. One entry: make mutate MUTATE_FLAGS='-only 7' (or
# -match step03).
mutate: setup
	@bash scripts/check-leaks.sh --save .leaks-before-mutate
	$(GO) run ./internal/mutate $(MUTATE_FLAGS); rc=$$?; \
	bash scripts/check-leaks.sh --since .leaks-before-mutate || rc=1; rm -f .leaks-before-mutate; exit $$rc

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	GOOS=darwin $(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum: run go mod tidy"; exit 1; }
	$(GO) test -count=1 ./internal/lessoncheck

# The lessons' diagrams parsed by Mermaid itself, the library GitHub renders
# them with: a cross-check of lint's own parser in Go (internal/lessoncheck).
# Needs Node and the npm registry, so it is not part of lint; mermaid and
# jsdom are installed once into MERMAID_CACHE.
MERMAID_CACHE ?= $(HOME)/.cache/minidocker-mermaid
lint-mermaid:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "lint-mermaid needs node and npm"; exit 1; }
	@[ -d "$(MERMAID_CACHE)/node_modules/mermaid" ] || npm install --prefix "$(MERMAID_CACHE)" --no-audit --no-fund mermaid@11 jsdom@24
	@cp scripts/mermaid-check.mjs "$(MERMAID_CACHE)/"
	node "$(MERMAID_CACHE)/mermaid-check.mjs" $$(git ls-files '*.md')

# The seed's docker session, run with minidocker, offline.
demo: setup
	@bash scripts/demo.sh

# The notes' three tiers (web, app, database) on a user network, with a named volume.
demo-app: setup
	@bash scripts/demo-app.sh

# Each step's own demo, one after another.
demo-steps: setup
	@bash scripts/demo-steps.sh

# A step's exercises, graded by its own tests: make exercise STEP=03 writes
# a copy of the course to workspace/<step> (or DIR=...) with the step's
# exercise regions replaced by a panic and a hint; make check STEP=03 runs
# the tests that grade each one there (as root: the tests are privileged).
exercise:
	@$(GO) build -o bin/exercise ./internal/exercise
	@bin/exercise new -step "$(STEP)" $(if $(DIR),-dir "$(DIR)")

check:
	@$(GO) build -o bin/exercise ./internal/exercise
	@bin/exercise check -step "$(STEP)" $(if $(DIR),-dir "$(DIR)")

# Every exercise of every step, with all its tests: each stub fails, the
# reference passes. make test runs the same with each exercise's quick tests.
check-exercises:
	MINIDOCKER_EXERCISE_FULL=1 MINIDOCKER_TEST_REQUIRE_ROOT=1 $(GO) test -count=1 -timeout 60m -run TestWorkspaces -v ./internal/exercise

bench:
	@bash scripts/setup.sh bench
	@bash scripts/bench.sh

clean:
	rm -rf bin
