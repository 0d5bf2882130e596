# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO   ?= demo_out

.PHONY: install test demo clean

install: $(VENV)/.installed

# torch first, pinned to the CPU build that the machines here carry; the package asks only for a range.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[all,test]"
	$(PY) -m pip install -q --no-deps dlr-moge==2.0.0 dlr-utils3d==1.3
	touch $@

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

demo: install
	$(PY) -m spatialforge.demo --out $(DEMO)

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
