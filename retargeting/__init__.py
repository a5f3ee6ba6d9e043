"""Robot side: retarget SMPL 22-joint human motion onto humanoid URDFs with Pinocchio. No ROS imports.

Entry point: ``Retargeter.from_robot("g1").retarget(joints_yup, fps=20.0, start_positions=None)``.
"""
from retargeting.errors import RetargetError
from retargeting.motion import RobotMotion
from retargeting.retargeter import RetargetSettings, Retargeter
from retargeting.robot_config import available_robots, load_robot_config

__all__ = ["RetargetError", "RobotMotion", "RetargetSettings", "Retargeter", "available_robots", "load_robot_config"]
