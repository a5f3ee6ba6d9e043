# Two commands for a fresh machine:
#   make demo   set up .venv and run the main job on the embedded defaults
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out/demo

.PHONY: demo test setup clean

setup: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, by exact version, so the CPU wheel is taken where one is provided locally.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[ros,test,onnx]'
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/run_isolated.sh $(BIN)/python -m motiongpt_node.demo --out $(OUT)

test: $(STAMP)
	bash scripts/run_isolated.sh $(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) out data runs
