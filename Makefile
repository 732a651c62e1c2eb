PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-browser bench fuzz clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/.installed $(BIN)/.installed-tables $@

# CSV files and formulas: pyarrow and formulaic
$(BIN)/.installed-tables: pyproject.toml $(BIN)/.installed
	$(BIN)/pip install -q -e '.[files,formula]'
	touch $@

# the lesson draws its figures only with --html; the terminal tour needs no matplotlib.
# Then a table with text columns and missing values: the bundled Palmer penguins (CC0)
demo: $(BIN)/.installed-tables
	$(BIN)/linreg lesson
	@echo
	$(BIN)/linreg fit src/linreg/data/penguins.csv --missing drop \
		--formula 'body_mass_g ~ flipper_length_mm + species * sex'

test: $(BIN)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -m 'not browser'

# the report and lesson pages in headless Chromium (Debian: apt-get install chromium)
test-browser: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider -m browser tests/test_browser.py

$(BIN)/.installed-bench: pyproject.toml $(BIN)/.installed-dev
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

bench: $(BIN)/.installed-bench
	$(BIN)/python benchmarks/run.py

fuzz: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-profile=fuzz tests/test_properties.py \
		tests/test_properties_layouts.py tests/test_properties_folds_clusters.py \
		tests/test_model_files.py tests/test_readers_fuzz.py tests/test_table_readers_fuzz.py

clean:
	rm -rf $(VENV) build src/*.egg-info
