# Two commands for a fresh machine:
#   make demo   set up .venv and run the main job on the embedded defaults
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out/demo
# ROS 2 interface packages (motiongpt_interfaces; the test-only control_msgs), built from the ros-jazzy-* wheels
# by scripts/build_interfaces.sh; demo and test source their setup.bash (PYTHONPATH, LD_LIBRARY_PATH,
# AMENT_PREFIX_PATH) so that the test process and the nodes it starts import them. Not under `set -u`: colcon's
# setup.bash reads unset variables.
IFACES := build/ros_interfaces/install/setup.bash
IFACE_SOURCES := scripts/build_interfaces.sh $(wildcard ros2_ws/motiongpt_interfaces/CMakeLists.txt \
	ros2_ws/motiongpt_interfaces/package.xml ros2_ws/motiongpt_interfaces/action/*.action \
	tests/motiongpt_node/interfaces/*/CMakeLists.txt tests/motiongpt_node/interfaces/*/package.xml \
	tests/motiongpt_node/interfaces/*/action/*.action tests/motiongpt_node/interfaces/*/msg/*.msg)
WITH_IFACES = bash -c 'source $(IFACES) && exec "$$@"' bash

.PHONY: demo test setup clean

setup: $(STAMP)

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, by exact version, so the CPU wheel is taken where one is provided locally.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[ros,test,onnx,interfaces]' -c constraints.txt
	# the interface packages (needs cmake, g++, make); again after every reinstall, which undoes the wheels' fix-up
	bash scripts/build_interfaces.sh $(VENV)
	touch $(STAMP)

# rebuilt when an interface definition changes or build/ was removed
$(IFACES): $(IFACE_SOURCES) | $(STAMP)
	bash scripts/build_interfaces.sh $(VENV)
	touch $@

demo: $(STAMP) $(IFACES)  # another command: make demo COMMAND="bow, then wave with both hands"
	$(WITH_IFACES) bash scripts/run_isolated.sh $(BIN)/python -m motiongpt_node.demo $${COMMAND:+"$$COMMAND"} --out $(OUT)

test: $(STAMP) $(IFACES)
	$(WITH_IFACES) bash scripts/run_isolated.sh $(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) out data runs build/ros_interfaces
