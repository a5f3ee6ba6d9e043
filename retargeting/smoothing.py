"""Smoothing of the solved joint trajectory: the per-frame IK jumps by a few hundredths of a radian between
frames (small changes of the active joint-limit and velocity boxes, of the contact weights, of a recovered
frame), which shows up as jerk. A Gaussian filter over time removes it.

A planted leg keeps its solved joints: blurred over the moment of touch-down it would drag the sole across
the ground. The filter is a weighted mean of neighbouring samples with positive weights, so every smoothed
sample lies within the joint position limits, and every smoothed interval's velocity is a mean of the raw
velocities; only where a planted leg meets its smoothed frames can a step exceed what the retime allows,
and the retime (retargeting/timing.py) then slows that interval.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def smooth_joints(joints: np.ndarray, sigma_frames: float, held: np.ndarray) -> np.ndarray:
    """(T, J) joint positions filtered over time with a Gaussian of ``sigma_frames`` (0: unchanged), except
    the samples ``held`` (T, J) marks (a planted leg's joints: `RobotModel.planted_leg_samples`)."""
    if sigma_frames <= 0 or len(joints) < 2:
        return joints
    smooth = gaussian_filter1d(joints, sigma_frames, axis=0, mode="nearest")
    smooth[held] = joints[held]
    return smooth
