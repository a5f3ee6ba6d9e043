"""Thin ROS 2 layer: converts messages and calls the motiongpt and retargeting cores. The only rclpy user."""
