# kitlib: two commands from a fresh clone.
#   make demo        create .venv, install, run every notebook in the demo profile, write runs/demo/index.html
#   make test        create .venv, install, run the unit tests + nbval over every notebook in quick mode
#   make test-floor  the same tests on the oldest stack requirements.txt accepts (Colab's: Python 3.13,
#                    TensorFlow 2.20, Keras 3.13), in .venv-floor, pinned by constraints-floor.txt
PYTHON      ?= python3
VENV        ?= .venv
CONSTRAINTS ?= constraints.txt
# unit tests and notebooks run on this many processes (pytest-xdist; notebooks one whole notebook per process,
# --dist loadfile): a single process leaves a core idle much of the time; TEST_WORKERS=0 runs them in this process
# (debugging)
TEST_WORKERS ?= 2
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.kitlib-installed
UNAME       := $(shell uname -s)
# The floor job's Python: python3.13 if one runs here (on PATH or under pyenv), else the default python3.
FLOOR_PYTHON ?= $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	$$p -c 'import sys' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: demo test test-floor unit notebooks bench strip clean help
help:
	@echo "make demo | make test | make test-floor | make unit | make notebooks | make bench | make strip | make clean"

$(STAMP): requirements.txt requirements-dev.txt $(CONSTRAINTS) pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
ifeq ($(UNAME),Linux)
	# CPU-only wheel on Linux; everything else from requirements.txt, pinned by constraints.txt.
	sed '/^tensorflow[<>=~ ]/d' requirements.txt > $(VENV)/requirements-no-tf.txt
	$(PY) -m pip install -q --disable-pip-version-check -c $(CONSTRAINTS) tensorflow-cpu \
		-r $(VENV)/requirements-no-tf.txt -r requirements-dev.txt
else
	$(PY) -m pip install -q --disable-pip-version-check -c $(CONSTRAINTS) -r requirements.txt -r requirements-dev.txt
endif
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kitlib demo --profile demo --out runs/demo

test: $(STAMP) unit notebooks

test-floor:
	@if [ -n "$(FLOOR_PYTHON)" ]; then py="$(FLOOR_PYTHON)"; else py="$(PYTHON)"; \
		echo "test-floor: no Python 3.13 found; running the floor TensorFlow/Keras on $$py instead"; fi; \
	echo "test-floor: $$py ($$($$py --version 2>&1)), constraints-floor.txt"; \
	$(MAKE) --no-print-directory test VENV=.venv-floor CONSTRAINTS=constraints-floor.txt PYTHON=$$py

unit: $(STAMP)
	KITLIB_QUICK=1 $(PY) -m pytest tests -q -n $(TEST_WORKERS) --dist worksteal

notebooks: $(STAMP)
	$(VENV)/bin/nbstripout --verify --keep-count notebooks/*.ipynb
	rm -rf notebooks/runs/quick
	KITLIB_QUICK=1 $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile notebooks

bench: $(STAMP)
	$(PY) -m kitlib bench all --baseline

strip: $(STAMP)
	$(VENV)/bin/nbstripout --keep-count notebooks/*.ipynb

clean:
	rm -rf $(VENV) .venv-floor runs/demo

# The kitlib wheel for Colab/Kaggle without internet (attach it as a Kaggle dataset, upload it, or put it in
# Drive's MyDrive/kitlib): the notebooks' first cell installs it. Writes dist/kitlib-VERSION-py3-none-any.whl.
.PHONY: wheel
wheel: $(STAMP)
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w dist .
	@ls dist/kitlib-*.whl
