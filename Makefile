# README command 1: `make demo`   README command 2: `make test` (what .ci/run calls)
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SHARED ?= ../shared

.PHONY: install demo seeds test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/gikcrawl demo --out archive

seeds: install
	mkdir -p out
	$(BIN)/gikcrawl parse $(SHARED)/seeds/*.txt -o out/seeds.jsonl
	$(BIN)/python $(SHARED)/tools/score.py out/seeds.jsonl $(SHARED)/seeds/expected

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
