PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck run bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check core adapters bots tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict

test: lint typecheck
	$(BIN)/python -m pytest -q

run: $(STAMP)
	$(BIN)/python -m bots

bench: $(STAMP)
	$(BIN)/python bench/core_turns.py
	$(BIN)/python bench/telegram_streaming.py
	$(BIN)/python bench/discord_streaming.py
	$(BIN)/python bench/mj_tasks.py --platform both

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
