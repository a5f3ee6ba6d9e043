"""MotionGPT core: motion representation, data, models, training and evaluation. No ROS imports."""

__version__ = "0.1.0"
