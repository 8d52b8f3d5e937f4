# `make run` installs and starts the service on its embedded defaults (SQLite, generated
# keys in ./var); `make test` installs everything the suite needs and runs all of it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck pytest system-deps bench clean

$(BIN)/notarium: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/notarium
	$(BIN)/notarium serve --host $(HOST) --port $(PORT)

system-deps:
	@bash scripts/system-deps.sh

lint: $(BIN)/notarium
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(BIN)/notarium
	$(BIN)/mypy

# Two workers, one test module each at a time: much of the suite waits on servers,
# browsers and subprocesses, and a module keeps its shared browser pool or server.
pytest: $(BIN)/notarium
	$(BIN)/pytest -n 2 --dist loadfile

test: system-deps lint typecheck pytest

bench: $(BIN)/notarium
	$(BIN)/python bench/tsa_issuance.py
	$(BIN)/python bench/merkle_build.py
	$(BIN)/python bench/verify_proofs.py
	$(BIN)/python bench/http_throughput.py
	$(BIN)/python bench/seal_pdf.py
	$(BIN)/python bench/web_capture.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
