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


# ---------------------------------------------------------------------- a model that cannot be loaded (issue 15, item 6)
def broken_model(kind: str, tiny_model_folder, tmp_path):
    import shutil

    if kind == "missing":
        return tmp_path / "no_such_model"
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_folder, folder)
    weights = folder / "lm" / "model.safetensors"
    if kind == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    elif kind == "corrupt":
        weights.write_bytes(b"\x00garbage" * 1000)
    elif kind == "bad-manifest":
        (folder / "motiongpt.yaml").write_text("language_model: [unclosed\n")
    return folder


@pytest.mark.parametrize("kind, message", [
    ("missing", "model folder not found"),
    ("truncated", "model or retargeter unavailable"),
    ("corrupt", "model or retargeter unavailable"),
    ("bad-manifest", "model or retargeter unavailable"),
])
def test_unloadable_model_exits_with_one_clear_line(kind, message, tiny_model_folder, tmp_path):
    folder = broken_model(kind, tiny_model_folder, tmp_path)
    result = run_node("-p", f"model_path:={folder}", "-p", "device:=cpu")
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("motiongpt_node: error:")]
    assert len(errors) == 1 and message in errors[0] and "stay_up_on_error" in errors[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert sum("ERROR" in line for line in result.stderr.splitlines()) == 0, result.stderr[-3000:]  # no second copy


def test_cuda_without_a_gpu_exits_with_one_clear_line(tiny_model_folder):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    result = run_node("-p", f"model_path:={tiny_model_folder}", "-p", "device:=cuda")
    assert result.returncode == 1, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("motiongpt_node: error:")]
    assert len(errors) == 1 and "device=cuda was asked for but torch sees no CUDA device" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_stay_up_on_error_keeps_the_node_up_in_state_error(tmp_path):
    import signal
    import threading

    isolate_environment()
    command = [sys.executable, "-m", "motiongpt_node.main", "--ros-args", "--params-file", str(PARAMS_FILE),
               "-p", f"model_path:={tmp_path / 'none'}", "-p", "stay_up_on_error:=true"]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reported, ticked = threading.Event(), threading.Event()

    def read_stderr() -> None:  # the node's log, line by line, as it comes
        for line in process.stderr:
            lines.append(line)
            if "model or retargeter unavailable" in line:
                reported.set()
        ticked.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        # the condition, not a sleep: the load failure is reported, and the process is still there after it
        assert reported.wait(120), "no load failure reported:\n" + "".join(lines)[-3000:]
        assert not ticked.wait(2.0) and process.poll() is None, "the node exited although stay_up_on_error is true"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        reader.join(timeout=5)
    stderr = "".join(lines)
    (tmp_path / "stderr").write_text(stderr)
    assert process.returncode == 0, stderr[-3000:]
    failures = [line for line in lines if "model or retargeter unavailable" in line]
    assert len(failures) == 1 and "the node stays up and refuses commands" in failures[0], stderr[-3000:]
