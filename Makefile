# `make demo`: set up everything and run demo audio → instruction → animation → out/.
# `make test`: set up everything and run the whole test suite.
AVI_VENV ?= .venv
export AVI_VENV
PYTHON := $(AVI_VENV)/bin/python

.PHONY: setup demo test extension bench

setup:
	bash scripts/setup.sh

demo: setup
	$(PYTHON) scripts/run_demo.py --out out

test: setup
	AVI_BLENDER_4_2_PYTHON=$(AVI_VENV)-blender-4.2/bin/python $(PYTHON) -m pytest tests -q

extension: setup
	$(PYTHON) scripts/build_extension.py

bench: setup
	$(PYTHON) bench/run_bench.py
