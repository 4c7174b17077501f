# Encore: `make run` (demo on an embedded broker) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test unit integration lint format schemas catalog bench clean

install: $(STAMP)

# Development installs everything (the `train` extra included); torch is pinned here to the
# 2.13.0 wheel, which needs no CUDA download, while the package itself only asks for a range.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(PY) -m embedded demo

test: install
	$(PY) -m pytest -q

unit: install
	$(PY) -m pytest -q -m "not integration"

integration: install
	$(PY) -m pytest -q -m integration

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

schemas: install
	$(PY) -m schemas

catalog: install
	$(PY) -m recommender catalog generate --out recommender/data/catalog.csv.gz

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
