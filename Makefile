# agf developer commands. `make test` and `make demo` do all set-up on a fresh machine:
# a local virtual environment in .venv, the build tools, and an editable install of agf whose
# C++ core is rebuilt incrementally in build/dev when a source under cpp/ changes.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.agf-installed
SOURCES := $(shell find cpp/include cpp/bindings -name '*.hpp' -o -name '*.cpp' 2>/dev/null) \
           CMakeLists.txt pyproject.toml $(wildcard cmake/*.cmake)
PYTEST_ARGS ?=

.PHONY: all install test demo bench clean distclean

all: install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" ninja

$(STAMP): $(PY) $(SOURCES)
	flock build.lock $(PY) -m pip install -q --no-build-isolation -e ".[test]" -Cbuild-dir=build/dev
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(PY) -m agf.demo --out out

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf build out .pytest_cache

distclean: clean
	rm -rf $(VENV)
