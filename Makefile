# The two entry points of the README. Each one creates the virtual environment, builds
# the web UI and installs what it needs on first use, so a fresh clone needs nothing else.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
UI_BUILT := dagyard/server/ui_dist/index.html
UI_MODULES := ui/node_modules/.package-lock.json
UI_SOURCES := $(shell find ui/src ui/index.html ui/package.json ui/tsconfig.json ui/vite.config.ts -type f 2>/dev/null)
CHROMIUM ?= /usr/bin/chromium

.PHONY: up test check clean bytecode ui ui-check chromium podman screenshots

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[test]'
	touch $(STAMP)

# Byte-compile our own sources too (some environments set PYTHONDONTWRITEBYTECODE): every
# task process and every `dagyard` command starts faster.
bytecode: $(STAMP)
	$(PY) -m compileall -q dagyard

# The web UI: npm packages from ui/package-lock.json, built by Vite into the Python
# package, so that `dagyard up` serves it without Node.
# `npm install` with the lock file, not `npm ci`: npm 11 refuses its own lock files in
# `npm ci` when a package has optional per-platform builds (rollup's), see npm/cli#4828.
$(UI_MODULES): ui/package-lock.json
	cd ui && npm install --no-fund --no-audit --loglevel=error
	touch $(UI_MODULES)

$(UI_BUILT): $(UI_MODULES) $(UI_SOURCES)
	cd ui && npx vite build --logLevel warn

ui: $(UI_BUILT)

# Types and unit tests of the UI.
ui-check: $(UI_MODULES)
	cd ui && npx tsc --noEmit && npx vitest run --reporter=dot

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot
# run on these machines).
chromium: $(CHROMIUM)

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# Tests run tasks in container images with Debian's Podman (and its runc), and build
# those images from Debian's packages with mmdebstrap (tests/containers/images.py).
podman: /usr/bin/podman /usr/bin/mmdebstrap

/usr/bin/podman /usr/bin/mmdebstrap &:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap >/dev/null

# Screenshots of the UI's main pages into docs/images/ (README shows two of them).
screenshots: $(STAMP) bytecode ui chromium
	$(PY) scripts/screenshots.py

up: $(STAMP) bytecode ui
	$(VENV)/bin/dagyard up --demo

test: $(STAMP) bytecode ui ui-check chromium podman
	$(VENV)/bin/ruff check dagyard tests bench scripts examples hatch_build.py
	$(VENV)/bin/ruff format --check dagyard tests bench scripts examples hatch_build.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest -n 2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache ui/node_modules dagyard/server/ui_dist
