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

# The add-on's tests under each other tested Blender (4.2 LTS: what its audio-less wheel allows; 4.5 LTS;
# 5.3 on Python 3.13, where the set-up operator really installs the model packages), the model process
# running from the main environment; then the whole suite on Blender 5.0.
BLENDER_TESTS := tests/avi_talking_blender
REINSTALL_TEST := $(BLENDER_TESTS)/test_model_environment.py::test_set_up_makes_an_environment_that_animates_a_line
test: setup
	for blender in 4.2 4.5 5.3; do \
	  skip=$$([ $$blender = 5.3 ] || echo --deselect $(REINSTALL_TEST)); \
	  echo "== Blender $$blender"; \
	  AVI_MODEL_PYTHON=$(abspath $(PYTHON)) $(AVI_VENV)-blender-$$blender/bin/python -m pytest $(BLENDER_TESTS) -q \
	    -p no:cacheprovider $$skip || exit 1; \
	done
	@echo "== Blender 5.0, the whole suite"
	AVI_BLENDER_4_2_PYTHON=$(AVI_VENV)-blender-4.2/bin/python $(PYTHON) -m pytest tests -q

extension: setup
	$(PYTHON) scripts/build_extension.py

bench: setup
	$(PYTHON) bench/run_bench.py
