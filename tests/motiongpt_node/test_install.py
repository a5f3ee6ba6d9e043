"""Installation: setup.py's data_files install every file the node needs under share/motiongpt_node/, and a
plain `colcon build` (no --symlink-install) puts the model, config, launch and Gazebo files there."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARE = "share/motiongpt_node"
TREES = {"models": "models", "config": "config", "launch": "launch", "ros2_ws/gazebo": "gazebo"}


def setup_distribution():
    from setuptools import distutils  # noqa: F401  (setuptools' distutils)
    from distutils.core import run_setup

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return run_setup("setup.py", script_args=["--name"], stop_after="init")
    finally:
        os.chdir(cwd)


def installed_files(data_files) -> dict[str, str]:
    """destination path -> source path"""
    return {f"{folder}/{Path(source).name}": source for folder, sources in data_files for source in sources}


def test_data_files_cover_every_file_of_models_config_launch_and_gazebo():
    installed = installed_files(setup_distribution().data_files)
    for source_dir, destination in TREES.items():
        files = [p for p in (REPO / source_dir).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files, source_dir
        for path in files:
            relative = path.relative_to(REPO / source_dir).as_posix()
            target = f"{SHARE}/{destination}/{relative}"
            assert installed.get(target) == path.relative_to(REPO).as_posix(), target
    assert f"{SHARE}/models/motiongpt-small/motiongpt.yaml" in installed
    assert installed["share/ament_index/resource_index/packages/motiongpt_node"] == "resource/motiongpt_node"


def test_every_data_directory_is_a_listed_package():
    """No "Package would be ignored" warnings: each folder of the Python packages that holds files is a package."""
    packages = set(setup_distribution().packages)
    for top in ("motiongpt", "retargeting", "motiongpt_node"):
        for folder in [REPO / top, *(p for p in (REPO / top).rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or not any(f.is_file() for f in folder.iterdir()):
                continue
            assert ".".join(folder.relative_to(REPO).parts) in packages, folder


def source_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    return [name for name in listed if name and (REPO / name).is_file()]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the package's files")
def test_plain_colcon_build_installs_model_config_launch_and_gazebo(tmp_path):
    pytest.importorskip("colcon_core", reason="colcon is in the test extra: pip install -e '.[test]'")
    source = tmp_path / "src" / "motiongpt_node"
    for name in source_files():  # what a clone holds
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([sys.executable, "-m", "colcon", "build", "--event-handlers", "console_direct+"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "would be ignored" not in output and "stderr output" not in output, output[-3000:]
    share = tmp_path / "install" / "motiongpt_node" / SHARE
    for name in ("models/motiongpt-small/motiongpt.yaml", "models/motiongpt-small/lm/model.safetensors",
                 "config/motiongpt_node.yaml", "launch/motiongpt.launch.py", "gazebo/g1_gazebo.launch.py",
                 "gazebo/g1_controllers.yaml", "gazebo/g1_gz.urdf", "package.xml"):
        assert (share / name).is_file() and not (share / name).is_symlink(), name
    urdf = (share / "gazebo" / "g1_gz.urdf").read_text()
    assert f"<parameters>{share / 'gazebo' / 'g1_controllers.yaml'}</parameters>" in urdf
    assert (tmp_path / "install" / "motiongpt_node" / "lib" / "motiongpt_node" / "motiongpt_node").is_file()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the package's files")
def test_workspace_build_with_the_interface_package_as_ros2_ws_readme_says(tmp_path):
    """ros2_ws/README.md section 1: the clone in src/, motiongpt_interfaces linked beside it, both built by colcon
    (ament_cmake + rosidl from this venv's ros-jazzy wheels, as scripts/build_interfaces.sh does); the installed
    workspace serves the action type and the mujoco_controller executable."""
    pytest.importorskip("colcon_core", reason="colcon is in the test extra: pip install -e '.[test]'")
    if not (Path(sys.prefix) / "share" / "rosidl_default_generators").is_dir():
        pytest.fail("the 'interfaces' extra is not installed: pip install -e '.[ros,test,interfaces]' (make setup does)")
    source = tmp_path / "src" / "motiongpt_node"
    for name in source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    (tmp_path / "src" / "motiongpt_interfaces").symlink_to(Path("motiongpt_node") / "ros2_ws" / "motiongpt_interfaces")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(AMENT_PREFIX_PATH=sys.prefix, CMAKE_PREFIX_PATH=sys.prefix,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "colcon", "build", "--packages-select", "motiongpt_interfaces",
                             "motiongpt_node", "--event-handlers", "console_direct+", "--cmake-args",
                             f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    install = tmp_path / "install"
    assert (install / "motiongpt_node" / "lib" / "motiongpt_node" / "mujoco_controller").is_file()
    check = subprocess.run(["bash", "-c", f"source {install / 'setup.bash'} && {sys.executable} -c "
                            "'from motiongpt_interfaces.action import ExecuteCommand as A; import motiongpt_interfaces; "
                            "print(A.Result.OUTCOME_EXECUTED, motiongpt_interfaces.__file__)'"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert check.returncode == 0, check.stderr[-2000:]
    outcome, module = check.stdout.split()
    assert outcome == "executed" and module.startswith(str(install / "motiongpt_interfaces")), check.stdout


def test_default_model_is_found_in_share_then_in_the_checkout(tmp_path, monkeypatch):
    from motiongpt_node.motion_pipeline import shipped_model_path

    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    assert shipped_model_path() == REPO / "models" / "motiongpt-small"  # development checkout
    prefix = tmp_path / "install"
    (prefix / "share" / "ament_index" / "resource_index" / "packages").mkdir(parents=True)
    (prefix / "share" / "ament_index" / "resource_index" / "packages" / "motiongpt_node").write_text("")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    assert shipped_model_path() == REPO / "models" / "motiongpt-small"  # installed without models: the checkout
    (prefix / SHARE / "models" / "motiongpt-small").mkdir(parents=True)
    assert shipped_model_path() == prefix / SHARE / "models" / "motiongpt-small"  # colcon install: share/
