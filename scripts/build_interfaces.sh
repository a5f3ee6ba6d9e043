#!/usr/bin/env bash
# Build the ROS 2 interface packages with colcon + ament_cmake + rosidl from the ros-jazzy-* wheels of a venv:
#   ros2_ws/motiongpt_interfaces                  the ExecuteCommand action of motiongpt_node
#   tests/motiongpt_node/interfaces/control_msgs  TEST-ONLY subset of control_msgs (FollowJointTrajectory)
# into build/ros_interfaces/install; `source build/ros_interfaces/install/setup.bash` makes them importable
# (PYTHONPATH, LD_LIBRARY_PATH, AMENT_PREFIX_PATH). Idempotent: a second run rebuilds only what changed.
# Usage: bash scripts/build_interfaces.sh [VENV]   (default .venv; it needs the "interfaces" extra of setup.py)
# On a machine with a ROS install, build these in your colcon workspace instead (and take control_msgs from
# the distribution).
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
if [ ! -d "${1:-.venv}" ]; then
  echo "build_interfaces: no virtual environment at ${1:-.venv} (make setup creates .venv)" >&2
  exit 1
fi
VENV=$(cd "${1:-.venv}" && pwd)
PY="$VENV/bin/python"

MISSING=""
for tool in cmake g++ make; do
  command -v "$tool" >/dev/null || MISSING="$MISSING $tool"
done
if [ -n "$MISSING" ]; then
  echo "build_interfaces: missing$MISSING; install them with: apt-get install -y cmake g++ make" >&2
  exit 1
fi
if [ ! -x "$PY" ] || [ ! -d "$VENV/share/ament_cmake" ] || [ ! -d "$VENV/share/rosidl_default_generators" ]; then
  echo "build_interfaces: $VENV lacks the ament/rosidl wheels; install them with: $PY -m pip install -e '.[ros,test,interfaces]'" >&2
  exit 1
fi
PYINC=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
NPINC=$("$PY" -c "import numpy; print(numpy.get_include())")
if [ ! -f "$PYINC/Python.h" ]; then
  echo "build_interfaces: no Python.h in $PYINC; install the Python headers (apt-get install -y python3-dev)" >&2
  exit 1
fi

# The wheels' exported CMake files carry their build machine's include paths (/opt/python/cp3XX-cp3XX/...):
# point them at this venv's Python and numpy (no match, no change, once fixed; again after any reinstall of
# ros-* message wheels).
sed -i -E \
  -e "s#/opt/python/cp3[^/]*/lib/python3\.[0-9]+/site-packages/numpy/_core/include#$NPINC#g" \
  -e "s#/opt/python/cp3[^/]*/include/python3\.[0-9]+[a-z]*#$PYINC#g" \
  "$VENV"/share/*/cmake/export_*__rosidl_generator_pyExport.cmake

# The venv is the ament prefix of the wheels (share/, lib/, include/); its python runs the generators.
PATH="$VENV/bin:$PATH" AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" \
  "$PY" -m colcon --log-base build/ros_interfaces/log build \
  --base-paths ros2_ws/motiongpt_interfaces tests/motiongpt_node/interfaces \
  --build-base build/ros_interfaces/build --install-base build/ros_interfaces/install \
  --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF

echo "build_interfaces: built into build/ros_interfaces/install in $((SECONDS - START)) s"
