"""Animation of a RobotMotion: MuJoCo offscreen rendering of the robot's meshes when an OpenGL backend
works (``MUJOCO_GL=egl`` by default), otherwise a matplotlib drawing of the robot's joint frames
(segments between each joint and its parent, the soles, the ground and the base path)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pinocchio as pin

from motiongpt.skeleton import FPS
from retargeting.motion import RobotMotion
from retargeting.robot_model import RobotModel

log = logging.getLogger(__name__)


def _write(frames: list[np.ndarray], out_path: Path, fps: float) -> Path:
    import imageio.v2 as imageio

    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.suffix.lower() == ".gif":
        imageio.mimsave(out_path, frames, duration=1.0 / fps, loop=0)
    else:
        imageio.mimsave(out_path, frames, fps=fps)
    return out_path


def _sample_indices(motion: RobotMotion, fps: float) -> np.ndarray:
    """Frame indices at a uniform playback rate over the (possibly retimed) trajectory."""
    playback = np.arange(motion.times[0], motion.times[-1] + 1e-9, 1.0 / fps)
    return np.clip(np.searchsorted(motion.times, playback), 0, motion.num_frames - 1)


def render_mujoco(robot: RobotModel, motion: RobotMotion, out_path: Path, size: int, fps: float) -> Path:
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from retargeting.mujoco_check import _set_pose, build_model

    model, qpos_adr, _, _ = build_model(robot)
    if (model.geom_bodyid > 0).sum() == 0:
        raise RuntimeError("the robot has no geometry MuJoCo can draw (its meshes are in formats MuJoCo cannot read)")
    data = mujoco.MjData(model)
    renderer = mujoco.Renderer(model, size, size)
    camera = mujoco.MjvCamera()
    camera.distance, camera.elevation = 3.0, -15.0
    frames = []
    try:
        for t in _sample_indices(motion, fps):
            _set_pose(model, data, motion.base_positions[t], motion.base_orientations[t], qpos_adr, motion.positions[t])
            mujoco.mj_forward(model, data)
            camera.lookat[:] = [motion.base_positions[t, 0], motion.base_positions[t, 1], 0.6 * motion.base_positions[0, 2]]
            camera.azimuth = 135.0
            renderer.update_scene(data, camera)
            frames.append(renderer.render().copy())
    finally:
        renderer.close()
    return _write(frames, out_path, fps)


def render_frames_drawing(robot: RobotModel, motion: RobotMotion, out_path: Path, size: int, fps: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, data = robot.model, robot.data
    parents = [model.parents[j] for j in range(model.njoints)]
    indices = _sample_indices(motion, fps)
    base = motion.base_positions
    span = 0.5 * max(float(base[:, 2].max()) * 2.0, 1.0)  # about the robot's height
    fig = plt.figure(figsize=(size / 100, size / 100), dpi=100)
    ax = fig.add_subplot(projection="3d")
    frames = []
    for t in indices:
        q = np.concatenate([base[t], motion.base_orientations[t], motion.positions[t]])
        pin.forwardKinematics(model, data, q)
        pin.updateFramePlacements(model, data)
        points = np.array([data.oMi[j].translation for j in range(model.njoints)])
        ax.cla()
        centre = base[t, :2]
        for j in range(2, model.njoints):
            a, b = points[parents[j]], points[j]
            ax.plot([a[0], b[0]], [a[1], b[1]], [a[2], b[2]], color="tab:blue", linewidth=2)
        soles = robot.sole_points()
        for k, colour in enumerate(("tab:green", "tab:red")):
            c = soles[k][[0, 1, 3, 2, 0]]
            planted = bool(motion.contacts[t, k])
            ax.plot(c[:, 0], c[:, 1], c[:, 2], color=colour, linewidth=3 if planted else 1)
        ax.plot(base[:, 0], base[:, 1], np.zeros(len(base)), color="grey", linewidth=0.8)
        gx, gy = np.meshgrid(np.linspace(centre[0] - span, centre[0] + span, 2), np.linspace(centre[1] - span, centre[1] + span, 2))
        ax.plot_surface(gx, gy, np.zeros_like(gx), color="lightgrey", alpha=0.3)
        ax.set_xlim(centre[0] - span, centre[0] + span)
        ax.set_ylim(centre[1] - span, centre[1] + span)
        ax.set_zlim(0, 2 * span)
        ax.set_title(f"{motion.robot}  t={motion.times[t]:.2f}s", fontsize=8)
        ax.set_axis_off()
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return _write(frames, out_path, fps)


def render_robot_motion(robot: RobotModel, motion: RobotMotion, out_path: str | Path, size: int = 320,
                        fps: float = FPS, backend: str = "auto") -> tuple[Path, str]:
    """Write an animation; returns (path, backend used: "mujoco" or "frames")."""
    out_path = Path(out_path)
    if backend in ("auto", "mujoco"):
        try:
            return render_mujoco(robot, motion, out_path, size, fps), "mujoco"
        except Exception as error:  # no EGL/OSMesa context on this machine
            if backend == "mujoco":
                raise
            log.warning("MuJoCo offscreen rendering unavailable (%s); drawing the robot's frames instead", error)
    return render_frames_drawing(robot, motion, out_path, size, fps), "frames"
