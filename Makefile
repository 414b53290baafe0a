# liprobe: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TESTDATA := $(VENV)/.testdata

.PHONY: demo test bench mutation clean

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

# mutmut over the counting statistics, one module at a time with its own tests
# (docs/mutation.md; a few minutes per module)
MUTATION := docs/mutation_results
mutation: $(STAMP)
	$(PY) -m pip install --quiet "mutmut>=3.3" "libcst>=1.1"
	$(PY) benchmarks/run_mutmut.py src/liprobe/counting.py tests/test_counting.py --out $(MUTATION)/counting_mutmut.txt
	$(PY) benchmarks/mutation_check.py src/liprobe/isotopes.py tests/test_isotopes.py --doctest --module-constants --json $(MUTATION)/isotopes.json
	$(PY) benchmarks/mutation_check.py src/liprobe/apt/_fda_stats.py tests/apt/test_fda_stats.py tests/apt/test_frequency.py --pytest-args "-m 'not slow'" --json $(MUTATION)/fda_stats.json
	$(PY) benchmarks/mutation_check.py src/liprobe/stem/mixing.py tests/stem/test_mixing.py --doctest --json $(MUTATION)/mixing.json

clean:
	rm -rf $(VENV) demo_output report .pytest_cache
