# The two entry points of the README. Each one creates the virtual environment and
# installs the project into it on first use, so a fresh clone needs nothing else.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: up test check clean bytecode

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[test]'
	touch $(STAMP)

# Byte-compile our own sources too (some environments set PYTHONDONTWRITEBYTECODE): every
# task process and every `dagyard` command starts faster.
bytecode: $(STAMP)
	$(PY) -m compileall -q dagyard

up: $(STAMP) bytecode
	$(VENV)/bin/dagyard demo

test: $(STAMP) bytecode
	$(VENV)/bin/ruff check dagyard tests bench
	$(VENV)/bin/ruff format --check dagyard tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest -n 2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
