# recsys-lessons: one-command setup, lab, course check, tests, rendering and benchmarks.
# Everything runs inside .venv, created on first use from the pinned requirements.lock.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-from-lock
WHEELS := wheelhouse

# implicit warns (on stderr) when OpenBLAS runs multi-threaded; one BLAS thread is also
# what makes timings comparable on a 2-core laptop.
export OPENBLAS_NUM_THREADS := 1

# Offline classrooms: `make wheelhouse` once on a connected machine, copy the folder,
# and `make setup` installs from it without network.
PIP_SOURCES := $(if $(wildcard $(WHEELS)/*),--no-index --find-links $(WHEELS),)

# Test runs are spread over the machine's cores by pytest-xdist: `-n auto` starts one worker
# per core and `--dist loadscope` keeps each test module, and each notebook, on one worker, so
# a notebook's cells run in order in one kernel (nbval's documented way to run in parallel).
# `make test WORKERS=0` runs everything in this process, one test after another.
WORKERS ?= auto
PARALLEL := -n $(WORKERS) --dist loadscope

NOTEBOOK_TESTS := $(PARALLEL) --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider

.PHONY: setup lab course test lint unit unit-all notebooks render exercises bench site wheelhouse clean help spark test-spark

help:
	@echo "make setup      create .venv with the pinned packages (runs automatically when needed)"
	@echo "make lab        open JupyterLab on the course map (README.md), offline: no news, no update check"
	@echo "make course     run every lesson headless and print a readiness table"
	@echo "make test       lint + unit-all + every notebook (lessons, exercises, solutions); what CI runs"
	@echo "make unit       quick local loop: unit and property tests and the package's doctests,"
	@echo "                without the slow ones (pytest markers 'browser': site and browser tests,"
	@echo "                'slow': JupyterLab and nbval runs, 'wheel': the package installed outside the repo)"
	@echo "make unit-all   the same with the slow tests (part of make test)"
	@echo "make lint       ruff check and format check (part of make test)"
	@echo "make render     re-execute lessons and solutions in place on MovieLens 100K"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make bench      run the benchmarks (tables printed, JSON in benchmarks/results/)"
	@echo "make site       build the browsable course site (offline) into build/site/"
	@echo "make wheelhouse download every pinned package for an offline classroom"
	@echo "make spark      add the optional Spark extra (requirements-spark.lock; needs Java 17+)"
	@echo "make test-spark lesson 13's tests and notebook (skipped, saying why, without Java)"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "recsys-lessons needs Python 3.11 or newer (found %s); install it and run: make setup PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCES) -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@
	@echo "Environment ready in $(VENV)/ (pinned by requirements.lock)."

setup: $(STAMP)

# JupyterLab with the configuration in jupyter-config/ (see tools/lab.py), on README.md's course map.
lab: $(STAMP)
	@$(BIN)/python -m tools.lab

course: $(STAMP)
	$(BIN)/python -m tools.run_course

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check recsys_lessons tests tools benchmarks conftest.py

# Unit and property tests plus the doctests (Examples sections) of the package. Pilot's
# __main__ exits on import and is never collected; see conftest.py for the Spark modules.
UNIT_TESTS := $(PARALLEL) tests recsys_lessons --doctest-modules -q

# The quick local loop: everything but the tests that build the site, drive a browser, start
# JupyterLab or nbval, or install the wheel outside the repository (markers in pyproject.toml).
unit: $(STAMP)
	$(BIN)/python -m pytest $(UNIT_TESTS) -m "not browser and not slow and not wheel"

unit-all: $(STAMP)
	$(BIN)/python -m pytest $(UNIT_TESTS)

# Lesson 13 needs the optional Spark extra, so the main pass leaves it to `make test-spark`.
SPARK_NOTEBOOKS := notebooks/13_scale_out_with_spark.ipynb

notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NOTEBOOK_TESTS) $(addprefix --ignore=,$(SPARK_NOTEBOOKS)) notebooks exercises solutions

test: lint unit-all notebooks

render: $(STAMP)
	$(BIN)/python -m tools.render

exercises: $(STAMP)
	$(BIN)/python -m tools.make_exercises

bench: $(STAMP)
	$(BIN)/python -m benchmarks.movielens_100k
	$(BIN)/python -m benchmarks.item_knn_speed
	$(BIN)/python -m benchmarks.metric_speed
	$(BIN)/python -m benchmarks.funk_svd_folds
	$(BIN)/python -m benchmarks.retrieval
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.sequences
	$(BIN)/python -m benchmarks.online
	$(BIN)/python -m benchmarks.exploration
	$(BIN)/python -m benchmarks.audit
	$(BIN)/python -m benchmarks.hybrid

site: $(STAMP)
	$(BIN)/python -m tools.build_site

# Optional Spark extra (lesson 13): pyspark + py4j on top of the main lock, same .venv.
SPARK_STAMP := $(VENV)/.installed-spark-lock

$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCES) -r requirements-spark.lock
	@touch $@
	@echo "Spark extra ready in $(VENV)/ (pinned by requirements-spark.lock; Spark also needs Java 17 or 21)."

spark: $(SPARK_STAMP)

# Skips, saying why, when no Java runtime is found (CI machines have one).
test-spark:
	@if ! java -version >/dev/null 2>&1; then \
		echo "SKIPPED make test-spark: no Java runtime found (java -version failed). Install a JDK 17 or 21, e.g. apt-get install openjdk-17-jre-headless, then rerun."; \
	else \
		$(MAKE) spark && \
		$(BIN)/python -m pytest -q -rs tests/test_scale.py tests/test_pilot_spark.py && \
		$(BIN)/python -m pytest $(NOTEBOOK_TESTS) $(SPARK_NOTEBOOKS); \
	fi

wheelhouse:
	$(PYTHON) -m pip wheel --quiet -r requirements.lock -w $(WHEELS)

clean:
	rm -rf build .pytest_cache .ruff_cache
