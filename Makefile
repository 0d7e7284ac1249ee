# IPS transcript workbench. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help setup report test lab bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project (again only when pyproject.toml changed)

report: $(STAMP) ## run every notebook and write the HTML reports (open reports/index.html); ARGS="--set …"
	$(PY) -m helpers run $(ARGS)

test: $(STAMP) ## run the test suite
	$(PY) -m pytest $(ARGS)

lab: $(STAMP) ## open JupyterLab on notebooks/ (CONFIG=PROJECT/pipeline.yaml: the notebooks use that project)
	$(if $(CONFIG),IPS_CONFIG=$(abspath $(CONFIG))) $(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## scale benchmark at 1M and 10M words: time, words/s, peak memory per step; baselines at 1M; the peer libraries (extra [bench]: spaCy, scikit-learn, scattertext) side by side
	$(PY) -m helpers bench $(or $(ARGS),--peers --words 1000000 --words 10000000)

clean: ## remove generated outputs (reports, figures, processed tables); never data
	rm -rf reports .pytest_cache
	find figures -type f ! -name .gitkeep -delete
	find data/processed -type f ! -name .gitkeep -delete
