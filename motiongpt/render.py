"""Stick-figure animation of a (T,22,3) SMPL motion: matplotlib (Agg, 3D) frames written as GIF or MP4.

The figure is drawn once; each frame only moves the bone lines, so a 100-frame clip renders in a few
seconds. The ground plane (y = 0) is a grid spanning the whole motion and the root's path is drawn on
it (the part already travelled in a darker colour). Y-up joints are shown with Y vertical.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motiongpt.skeleton import FEATURE_DIM, FPS, KINEMATIC_CHAINS, NUM_JOINTS

# Right leg, left leg, spine, right arm, left arm (KINEMATIC_CHAINS order): right side red, left side blue.
CHAIN_COLOURS: tuple[str, ...] = ("#d62728", "#1f77b4", "#333333", "#ff7f0e", "#17becf")
SUPPORTED_SUFFIXES = (".gif", ".mp4")


class RenderError(ValueError):
    """The motion cannot be rendered (bad input or an unsupported output format)."""


@dataclass(frozen=True)
class RenderOptions:
    fps: float = FPS
    size_px: int = 320          # output width and height in pixels
    elevation_deg: float = 15.0
    azimuth_deg: float = -60.0
    title: str | None = None
    show_root_path: bool = True


def load_motion(path: str | Path) -> np.ndarray:
    """Joints (T,22,3) from a ``.npy`` file holding joints (T,22,3) or HumanML3D features (T,263).

    Features are decoded with ``recover_from_ric`` (they must be un-normalised).
    """
    from motiongpt.validation import MotionError, check_features, check_joints, load_npy

    array = load_npy(path)
    if array.ndim == 2 and array.shape[1] == FEATURE_DIM:
        from motiongpt.features import recover_from_ric

        features = check_features(array, source=str(path), min_frames=2)
        return check_joints(recover_from_ric(features), source=str(path))
    if array.ndim == 3 and array.shape[1:] == (NUM_JOINTS, 3):
        return check_joints(array, source=str(path))
    raise MotionError(
        f"{path}: expected joints (T, {NUM_JOINTS}, 3) or features (T, {FEATURE_DIM}), got shape {tuple(array.shape)}")


def render_frames(joints: np.ndarray, options: RenderOptions = RenderOptions(), source: str = "motion") -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 of the stick figure."""
    from motiongpt.validation import check_joints

    joints = check_joints(joints, source=source)
    # Figure + FigureCanvasAgg directly: no pyplot, no global backend switch, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Plot coordinates: (x, z, y) so that the data's Y (up) is matplotlib's vertical axis.
    points = joints[..., [0, 2, 1]]
    low = points.reshape(-1, 3).min(axis=0)
    high = points.reshape(-1, 3).max(axis=0)
    centre = (low + high) / 2.0
    half = max(float(np.max(high[:2] - low[:2])) / 2.0 + 0.3, 1.0)
    height = max(float(high[2]), 1.8)

    dpi = 100
    figure = Figure(figsize=(options.size_px / dpi, options.size_px / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot(projection="3d")
    figure.subplots_adjust(0, 0, 1, 1)
    axes.set_xlim(centre[0] - half, centre[0] + half)
    axes.set_ylim(centre[1] - half, centre[1] + half)
    axes.set_zlim(0.0, height)
    axes.set_box_aspect((2 * half, 2 * half, height), zoom=1.3)
    axes.view_init(elev=options.elevation_deg, azim=options.azimuth_deg)
    axes.set_axis_off()
    if options.title:
        figure.text(0.5, 0.95, options.title, ha="center", va="top", fontsize=8)

    grid = np.linspace(-half, half, 9)
    for g in grid:
        axes.plot([centre[0] + g] * 2, [centre[1] - half, centre[1] + half], [0, 0], color="#cccccc", lw=0.6)
        axes.plot([centre[0] - half, centre[0] + half], [centre[1] + g] * 2, [0, 0], color="#cccccc", lw=0.6)
    root = points[:, 0]
    if options.show_root_path:
        axes.plot(root[:, 0], root[:, 1], np.zeros(len(root)), color="#bbbbbb", lw=1.0)
        travelled = axes.plot([], [], [], color="#555555", lw=1.5)[0]
    bones = [axes.plot([], [], [], color=colour, lw=2.5, marker="o", markersize=2)[0]
             for colour in CHAIN_COLOURS[: len(KINEMATIC_CHAINS)]]

    frames = []
    for t in range(len(points)):
        for line, chain in zip(bones, KINEMATIC_CHAINS):
            chain_points = points[t, list(chain)]
            line.set_data_3d(chain_points[:, 0], chain_points[:, 1], chain_points[:, 2])
        if options.show_root_path:
            travelled.set_data_3d(root[: t + 1, 0], root[: t + 1, 1], np.zeros(t + 1))
        canvas.draw()
        frames.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return np.stack(frames)


def save_animation(frames: np.ndarray, out_path: str | Path, fps: float = FPS) -> Path:
    """Write frames (T,H,W,3) as an animated GIF (Pillow) or MP4 (imageio with ffmpeg)."""
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise RenderError(f"{out_path}: unsupported output format {suffix or '(none)'}; use .gif or .mp4")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        from PIL import Image

        images = [Image.fromarray(frame).convert("P", palette=Image.Palette.ADAPTIVE, colors=32) for frame in frames]
        images[0].save(out_path, save_all=True, append_images=images[1:], duration=round(1000.0 / fps),
                       loop=0, optimize=False, disposal=1)
    else:
        try:
            import imageio.v3 as iio

            iio.imwrite(out_path, frames, fps=fps, codec="libx264", plugin="pyav")
        except Exception as error:  # no ffmpeg/pyav backend installed
            raise RenderError(f"{out_path}: cannot write MP4 here ({error}); write a .gif instead") from error
    return out_path


def render_motion(joints: np.ndarray, out_path: str | Path, options: RenderOptions = RenderOptions(),
                  source: str = "motion") -> Path:
    """Render a (T,22,3) motion to ``out_path`` (.gif or .mp4)."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise RenderError(f"{out_path}: unsupported output format {suffix or '(none)'}; use .gif or .mp4")
    return save_animation(render_frames(joints, options, source=source), out_path, options.fps)


def render_file(motion_path: str | Path, out_path: str | Path, options: RenderOptions = RenderOptions()) -> Path:
    """Render a motion ``.npy`` file (joints or features) to ``out_path``."""
    return render_motion(load_motion(motion_path), out_path, options, source=str(motion_path))
