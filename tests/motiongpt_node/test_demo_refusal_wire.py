"""`make demo` with a command the shipped model cannot do: the demo says why the node refused it, at once, and
exits with code 2 instead of waiting for a trajectory that never comes.

Real node (the shipped model, rclpy, Fast DDS) and the demo's own rclpy client, as `python -m motiongpt_node.demo`
runs them; run inside `bash scripts/run_isolated.sh` (`make test` does).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_reports_a_refused_command_and_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "motiongpt_node.demo", "look to the left, then wave",
                             "--out", str(tmp_path), "--timeout", "120"],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert ("refused  : command refused: 'look to the left' is not something the model knows: it resembles "
            "'look to your left', which the model cannot do") in result.stderr
    assert "command  : 'look to the left, then wave'" in result.stdout
    assert not (tmp_path / "trajectory.json").exists()  # nothing was received, nothing played
