# kitlib: two commands from a fresh clone.
#   make demo   create .venv, install, run every notebook in the demo profile, write runs/demo/index.html
#   make test   create .venv, install, run the unit tests + nbval over every notebook in quick mode
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kitlib-installed
UNAME  := $(shell uname -s)

.PHONY: demo test unit notebooks bench strip clean help
help:
	@echo "make demo | make test | make unit | make notebooks | make bench | make strip | make clean"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
ifeq ($(UNAME),Linux)
	# CPU-only wheel on Linux; everything else from requirements.txt, pinned by constraints.txt.
	sed '/^tensorflow[<>=~ ]/d' requirements.txt > $(VENV)/requirements-no-tf.txt
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt tensorflow-cpu \
		-r $(VENV)/requirements-no-tf.txt -r requirements-dev.txt
else
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements.txt -r requirements-dev.txt
endif
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kitlib demo --profile demo --out runs/demo

test: $(STAMP) unit notebooks

unit: $(STAMP)
	KITLIB_QUICK=1 $(PY) -m pytest tests -q

notebooks: $(STAMP)
	$(VENV)/bin/nbstripout --verify --keep-count notebooks/*.ipynb
	rm -rf notebooks/runs/quick
	KITLIB_QUICK=1 $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider notebooks

bench: $(STAMP)
	$(PY) -m kitlib bench all --baseline

strip: $(STAMP)
	$(VENV)/bin/nbstripout --keep-count notebooks/*.ipynb

clean:
	rm -rf $(VENV) runs/demo
