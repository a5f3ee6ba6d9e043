"""Launch the MotionGPT node with its parameter file (ROS 2 Humble and Jazzy).

    ros2 launch motiongpt_node motiongpt.launch.py
    ros2 launch motiongpt_node motiongpt.launch.py namespace:=robot1 robot:=talos model:=/path/to/model
    ros2 launch motiongpt_node motiongpt.launch.py params_file:=/path/to/my_params.yaml use_sim_time:=true
    ros2 launch motiongpt_node motiongpt.launch.py rviz:=true

Every node parameter is set in the YAML file (default: share/motiongpt_node/config/motiongpt_node.yaml,
keyed `/**:` so that it applies under any namespace); copy it, edit it, and pass it as params_file. The
`robot` and `model` arguments override the file. Topic names are relative (under `namespace`); the
trajectory output and the action are remapped to the standard joint_trajectory_controller names.
`rviz:=true` also starts rviz2 (in `namespace` too) with share/motiongpt_node/config/motiongpt.rviz: the
robot model from robot_description (when something publishes it), the node's ~/skeleton markers and
~/base_path, fixed frame `world` (the world_frame default). Only APIs present in both Humble and Jazzy are used.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE = "motiongpt_node"
EXECUTABLE = "motiongpt_node"
PARAMS_FILE = os.path.join("config", "motiongpt_node.yaml")
RVIZ_CONFIG = os.path.join("config", "motiongpt.rviz")
# The node's relative names -> the controller's (relative too: both follow `namespace`).
REMAPPINGS = [
    ("joint_trajectory", "joint_trajectory_controller/joint_trajectory"),
    ("follow_joint_trajectory", "joint_trajectory_controller/follow_joint_trajectory"),
]


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    default_params = os.path.join(share, PARAMS_FILE)
    return LaunchDescription([
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="namespace of the node and of its relative topics (command, joint_states, ...)",
        ),
        DeclareLaunchArgument(
            "robot", default_value="g1",
            description="robot name (retargeting/robots/<name>.yaml) or YAML file; overrides params_file",
        ),
        DeclareLaunchArgument(
            "model", default_value="",
            description="MotionGPT model folder; empty: the shipped share/motiongpt_node/models/motiongpt-small",
        ),
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
        DeclareLaunchArgument(
            "rviz", default_value="false",
            description="true: also start rviz2 with config/motiongpt.rviz (robot model, skeleton, base path)",
        ),
        Node(
            package=PACKAGE,
            executable=EXECUTABLE,
            name="motiongpt_node",
            namespace=LaunchConfiguration("namespace"),
            output="screen",
            emulate_tty=True,
            parameters=[
                LaunchConfiguration("params_file"),
                {
                    "use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool),
                    "robot": ParameterValue(LaunchConfiguration("robot"), value_type=str),
                    "model_path": ParameterValue(LaunchConfiguration("model"), value_type=str),
                },
            ],
            remappings=REMAPPINGS,
            arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
        ),
        Node(
            package="rviz2",
            executable="rviz2",
            name="rviz2",
            namespace=LaunchConfiguration("namespace"),  # the config's relative topics follow the node's
            output="screen",
            arguments=["-d", os.path.join(share, RVIZ_CONFIG)],
            parameters=[{"use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool)}],
            condition=IfCondition(LaunchConfiguration("rviz")),
        ),
    ])
