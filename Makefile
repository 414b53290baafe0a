# liprobe: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TESTDATA := $(VENV)/.testdata

.PHONY: demo test bench clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,arbin,report]"
	@touch $(STAMP)

# Real DM3/EMD microscope files for the image-reader tests: the hyperspy 1.7.6 wheel ships
# them. Installed without dependencies, as data only; liprobe never imports hyperspy.
$(TESTDATA): $(STAMP)
	$(PY) -m pip install --quiet --no-deps "hyperspy==1.7.6"
	@touch $(TESTDATA)

demo: $(STAMP)
	$(PY) -m liprobe demo --out demo_output

test: $(STAMP) $(TESTDATA)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo_output report .pytest_cache
