# README command 1: `make demo`   README command 2: `make test` (what .ci/run calls)
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SHARED ?= ../shared

.PHONY: install system-deps replay-env demo seeds test bench clean freeze-demo

# Debian packages the tests need: Chromium (browser rendering; never `playwright install`), Redis
# (distributed crawling), Tesseract with Chinese (OCR of image and scanned reports), LibreOffice Writer
# without GUI (DOC/WPS/RTF attachments), catdoc (text-only fallback), a CJK font (rendering test images).
# Installed only when missing; needs root (or sudo).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	[ -f /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ] || missing="$$missing tesseract-ocr-chi-sim"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-writer-nogui"; \
	command -v catdoc >/dev/null 2>&1 || missing="$$missing catdoc"; \
	[ -d /usr/share/fonts/truetype/wqy ] || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,distributed]'
	touch $@

install: $(VENV)/.installed

# pywb (`gikcrawl serve`, the replay tests) in its own venv beside $(VENV): the tests need the [distributed]
# extra (redis-py 8) and pywb, which pins redis 2.10.6 (the [replay] extra: one or the other per venv).
# `gikcrawl serve` finds it there.
PYWB_VENV ?= $(VENV)-pywb
$(PYWB_VENV)/.installed: replay-requirements.txt
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip install -q --disable-pip-version-check -r replay-requirements.txt
	touch $@

replay-env: $(PYWB_VENV)/.installed

demo: install
	$(BIN)/gikcrawl demo --out archive

seeds: install
	mkdir -p out
	$(BIN)/gikcrawl parse $(SHARED)/seeds/*.txt -o out/seeds.jsonl
	$(BIN)/python $(SHARED)/tools/score.py out/seeds.jsonl $(SHARED)/seeds/expected

test: install system-deps replay-env
	$(BIN)/ruff check gikcrawl gikfixtures tests bench
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/distributed.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/stall.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/onboarding.py
	$(BIN)/python bench/replay_tools.py
	$(BIN)/python bench/hostile.py

# after changing the demo site's generator (gikfixtures/replica.py): rewrite the frozen copy the package ships
freeze-demo: install
	$(BIN)/python -m gikfixtures.freeze

clean:
	rm -rf $(VENV) $(PYWB_VENV) out build .pytest_cache .hypothesis
