"""Bad configuration at startup: the executable exits with status 2 and one clear line, nothing deep."""
import subprocess
import sys

import pytest

from tests.motiongpt_node.wire import PARAMS_FILE, REPO, isolate_environment


def run_node(*ros_args: str) -> subprocess.CompletedProcess:
    isolate_environment()
    command = [sys.executable, "-m", "motiongpt_node.main", "--ros-args", "--params-file", str(PARAMS_FILE), *ros_args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "ros_args, message",
    [
        (("-p", "robot:=no_such_robot"), "no_such_robot"),
        (("-p", "urdf_path:=/nonexistent/robot.urdf"), "URDF file not found: /nonexistent/robot.urdf"),
        (("-p", "max_duration:=500.0"), "max_duration"),
        (("-p", "device:=tpu"), "device must be one of ['auto', 'cpu', 'cuda']"),
    ],
    ids=["unknown-robot", "missing-urdf", "out-of-range", "bad-choice"],
)
def test_bad_configuration_exits_with_one_clear_line(ros_args, message):
    result = run_node(*ros_args)
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("motiongpt_node: error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
