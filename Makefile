# rdv-spie — the two commands of the README, and a few more.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
E2E    := tests/e2e
E2E_STAMP := $(E2E)/node_modules/.installed-stamp
# The browser tests use Debian's Chromium: nothing may download one of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || (apt-get update && apt-get install -y --no-install-recommends python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# axe-core for the browser tests, exactly as tests/e2e/package-lock.json pins it.
$(E2E_STAMP): $(E2E)/package.json $(E2E)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for tests/e2e (Debian: apt-get install npm)" >&2; exit 1; }
	cd $(E2E) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## demo: install, migrate a SQLite database under var/, seed the Aisne demo, serve on :8000
demo: $(STAMP)
	$(BIN)/rdv-spie db upgrade
	$(BIN)/rdv-spie demo seed
	$(BIN)/rdv-spie serve

## test: lint, type-check, then the whole suite on SQLite and on a throwaway PostgreSQL
test: $(STAMP) $(E2E_STAMP) lint
	bash tests/tools/system-packages.sh
	$(BIN)/python tests/tools/services.py -- $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests migrations
	$(BIN)/ruff format --check src tests migrations
	$(BIN)/mypy
	$(BIN)/lint-imports architecture.ini
	$(BIN)/python tests/tools/module_size.py src migrations/env.py

## bench: slot search and booking, intake and delivery, then calendar feeds: each figure next to a
## ceiling of the same run and its target, also written to var/bench/latest.json. Exits 1 when a
## guarantee fails (double booking, error answer, memory growth, lost message); BENCH_STRICT=1
## also fails on a missed speed target.
bench: $(STAMP)
	bash tests/tools/system-packages.sh
	rm -f var/bench/latest.json
	$(BIN)/python tests/tools/services.py -- sh -c 'status=0; $(BIN)/python -m tests.bench || status=1; $(BIN)/python -m tests.bench_intake || status=1; $(BIN)/python -m tests.bench_feeds || status=1; exit $$status'

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis $(E2E)/node_modules
