"""Thin ROS 2 layer: converts messages and calls the motiongpt and retargeting cores. The only rclpy user.

Modules (ROS-free unless marked):
- node_config: every parameter (default, description, range) and the validated NodeConfig.
- inputs: validation of commands, joint states and pose arrays (InputError).
- pose_history: the live ~/human_pose stream, resampled to 20 fps.
- worker: one background worker, latest wins, bounded queue, drops reported.
- motion_pipeline: MotionGPT (command / predict / describe) then retargeting.Retargeter.
- joint_limits: URDF position and velocity limits.
- trajectory_shaping: robot motion -> contract-valid trajectory (clamp, transition, retime, cut).
- trajectory_contract: the check every published trajectory passes (TrajectoryContractError).
- executed_motion: a received trajectory + base path back to a RobotMotion (MuJoCo check, rendering).
- bag_recorder: inputs and outputs to a rosbag2 mcap with rosbags.
- ros_messages (rclpy messages), node (rclpy Node), main (executable), demo (the main job over the wire).
"""
