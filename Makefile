# trm-submit: two entry points, `make submission` and `make test`; each sets up .venv by itself.
PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
SET        ?= arc-agi-2
SPLIT      ?= evaluation
BUDGET     ?= 3600
WORKERS    ?= 1
WEIGHTS    ?= weights/trm.pt
OUT        ?= out/$(SET)-$(SPLIT)
ARGS       ?=

.PHONY: venv submission test test-all bench clean

# The venv reuses a torch that the system Python already has (Kaggle's CUDA build); otherwise it gets
# the CPU wheel $(TORCH_SPEC), installed before the package so pip never resolves a CUDA build.
$(VENV)/.installed: pyproject.toml
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
		$(PYTHON) -m venv --system-site-packages $(VENV); \
	else \
		$(PYTHON) -m venv $(VENV); \
	fi
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	@touch $@

venv: $(VENV)/.installed

submission: venv
	$(PY) -m trm_submit data --set $(SET) --split $(SPLIT) --out-dir $(OUT)/data
	$(PY) -m trm_submit submit \
		--challenges $(OUT)/data/arc-agi_$(SPLIT)_challenges.json \
		--solutions $(OUT)/data/arc-agi_$(SPLIT)_solutions.json \
		--weights $(WEIGHTS) --out $(OUT)/submission.json \
		--time-budget $(BUDGET) --workers $(WORKERS) $(ARGS)

test: venv
	$(PY) -m pytest -q -m "not slow"

test-all: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/bench_decode_vote.py
	$(PY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) out build dist *.egg-info
