"""Gazebo Harmonic + gz_ros2_control: the G1 (pelvis fixed 1 m above the ground) with a
joint_trajectory_controller, driven by the MotionGPT node. ROS 2 Jazzy (the Harmonic pairing).

    ros2 launch ros2_ws/gazebo/g1_gazebo.launch.py

Needs ros-jazzy-ros-gz, ros-jazzy-gz-ros2-control, ros-jazzy-ros2-controllers,
ros-jazzy-robot-state-publisher, and example-robot-data importable by the Python that runs the launch.
"""
import os
import subprocess
import sys
import tempfile

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import Node

HERE = os.path.dirname(os.path.abspath(__file__))
CONTROLLERS = os.path.join(HERE, "g1_controllers.yaml")
URDF_TOOL = os.path.join(HERE, "make_g1_gz_urdf.py")


def generate_launch_description():
    urdf_file = os.path.join(tempfile.gettempdir(), "motiongpt_g1_gz.urdf")
    subprocess.run([sys.executable, URDF_TOOL, "--out", urdf_file, "--controllers", CONTROLLERS], check=True)
    with open(urdf_file) as handle:
        robot_description = handle.read()

    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(get_package_share_directory("ros_gz_sim"), "launch", "gz_sim.launch.py")),
        launch_arguments={"gz_args": "-r -v 3 empty.sdf"}.items(),
    )
    state_publisher = Node(
        package="robot_state_publisher", executable="robot_state_publisher", output="screen",
        parameters=[{"robot_description": robot_description, "use_sim_time": True}],
    )
    spawn = Node(package="ros_gz_sim", executable="create", output="screen",
                 arguments=["-topic", "robot_description", "-name", "g1"])
    clock = Node(package="ros_gz_bridge", executable="parameter_bridge", output="screen",
                 arguments=["/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock"])
    joint_state_broadcaster = Node(package="controller_manager", executable="spawner",
                                   arguments=["joint_state_broadcaster"])
    trajectory_controller = Node(package="controller_manager", executable="spawner",
                                 arguments=["joint_trajectory_controller"])
    motiongpt = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(get_package_share_directory("motiongpt_node"), "launch", "motiongpt.launch.py")),
        launch_arguments={"use_sim_time": "true"}.items(),
    )
    return LaunchDescription([
        gazebo, state_publisher, spawn, clock,
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[joint_state_broadcaster])),
        RegisterEventHandler(OnProcessExit(target_action=joint_state_broadcaster, on_exit=[trajectory_controller])),
        motiongpt,
    ])
