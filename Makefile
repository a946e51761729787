# newstrace: `make run` sets up and analyses ../shared/seeds; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
CORPUS ?= ../shared/seeds
DB     ?= newstrace.db
SHARED ?= ../shared
BENCH_N ?= 100000

.PHONY: setup run test lint eval bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

run: setup
	$(BIN)/newstrace --db $(DB) run $(CORPUS)

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench eval)

test: setup lint
	$(BIN)/python -m pytest -q

eval: setup
	$(BIN)/python -m pip install -q -e '.[eval,bench]'
	$(BIN)/python eval/run_eval.py --shared $(SHARED)

bench: setup
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/run_bench.py --shared $(SHARED) --n $(BENCH_N)

clean:
	rm -rf $(VENV) build src/*.egg-info bench/out
