"""Launch the MotionGPT node with its parameter file (ROS 2 Humble and Jazzy).

    ros2 launch motiongpt_node motiongpt.launch.py
    ros2 launch motiongpt_node motiongpt.launch.py params_file:=/path/to/my_params.yaml use_sim_time:=true

Every node parameter is set in the YAML file (default: share/motiongpt_node/config/motiongpt_node.yaml);
copy it, edit it, and pass it as params_file. Only APIs present in both Humble and Jazzy are used.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE = "motiongpt_node"
EXECUTABLE = "motiongpt_node"
PARAMS_FILE = os.path.join("config", "motiongpt_node.yaml")


def generate_launch_description():
    default_params = os.path.join(get_package_share_directory(PACKAGE), PARAMS_FILE)
    return LaunchDescription([
        DeclareLaunchArgument(
            "params_file", default_value=default_params,
            description="ROS 2 parameter file for the motiongpt_node node",
        ),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false",
            description="use /clock (true under Gazebo)",
        ),
        DeclareLaunchArgument(
            "log_level", default_value="info",
            description="logging level of the node",
        ),
        Node(
            package=PACKAGE,
            executable=EXECUTABLE,
            name="motiongpt_node",
            output="screen",
            emulate_tty=True,
            parameters=[
                LaunchConfiguration("params_file"),
                {"use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool)},
            ],
            arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
        ),
    ])
