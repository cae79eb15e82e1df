# trm-submit: two entry points, `make submission` and `make test` (ruff, mypy, pytest); each sets up .venv by itself.
PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
SET        ?= arc-agi-2
SPLIT      ?= evaluation
BUDGET     ?= 1800
WORKERS    ?= 2
WEIGHTS    ?= weights/trm.pt
OUT        ?= out/$(SET)-$(SPLIT)
ARGS       ?=

.PHONY: venv submission lint test test-all bench clean

# The venv reuses a torch that the system Python already has (Kaggle's CUDA build); otherwise it gets
# the CPU wheel $(TORCH_SPEC), installed before the package so pip never resolves a CUDA build.
$(VENV)/.installed: pyproject.toml
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
		$(PYTHON) -m venv --system-site-packages $(VENV); \
	else \
		$(PYTHON) -m venv $(VENV); \
	fi
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test,lint]"
	@touch $@

venv: $(VENV)/.installed

submission: venv
	$(PY) -m trm_submit data --set $(SET) --split $(SPLIT) --out-dir $(OUT)/data
	$(PY) -m trm_submit submit \
		--challenges $(OUT)/data/arc-agi_$(SPLIT)_challenges.json \
		--solutions $(OUT)/data/arc-agi_$(SPLIT)_solutions.json \
		$(if $(wildcard $(WEIGHTS)),--weights $(WEIGHTS)) --out $(OUT)/submission.json \
		--time-budget $(BUDGET) --workers $(WORKERS) $(ARGS)
	$(PY) -m trm_submit report --submission $(OUT)/submission.json \
		--challenges $(OUT)/data/arc-agi_$(SPLIT)_challenges.json \
		--solutions $(OUT)/data/arc-agi_$(SPLIT)_solutions.json --out $(OUT)/report.html

# ruff (lint + import order) and mypy (trm_submit/), configured in pyproject.toml; `test` runs them first.
lint: venv
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest -q -m "not slow"

test-all: lint
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/bench_decode_vote.py
	$(PY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) out build dist *.egg-info .mypy_cache .ruff_cache

# Kaggle (kernel/): `make kaggle-dataset` stages dist/kaggle-dataset (package wheel, weights, dependency
# wheels) and dist/kaggle-kernel (notebook + metadata); `make dry-run` executes that notebook here against a
# simulated /kaggle tree with the network unavailable and a short budget, then projects a full 4 x L4 run.
KAGGLE_OWNER   ?=
COMPETITION    ?=
DRY_RUN_BUDGET ?= 60
DRY_RUN_ARGS   ?=

.PHONY: kaggle-dataset dry-run

$(VENV)/.kaggle-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[kaggle]"
	@touch $@

kaggle-dataset: venv
	$(PY) scripts/kaggle_dataset.py --weights $(WEIGHTS) $(if $(KAGGLE_OWNER),--owner $(KAGGLE_OWNER)) \
		$(if $(COMPETITION),--competition $(COMPETITION))

dry-run: kaggle-dataset $(VENV)/.kaggle-installed
	$(PY) scripts/dry_run.py --dataset dist/kaggle-dataset --budget $(DRY_RUN_BUDGET) $(DRY_RUN_ARGS)
	$(PY) scripts/dry_run.py --dataset dist/kaggle-dataset --budget $(DRY_RUN_BUDGET) --cli-args "--ttft-scope joint" \
		--out-dir out/dry-run-joint $(DRY_RUN_ARGS)
