PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench fuzz clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/.installed $@

demo: $(BIN)/.installed
	$(BIN)/linreg demo

test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed-dev
	$(BIN)/python benchmarks/run.py

fuzz: $(BIN)/.installed-dev
	LINREG_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/test_properties.py

clean:
	rm -rf $(VENV) build src/*.egg-info
