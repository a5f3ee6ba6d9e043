"""`motiongpt render MOTION.npy OUT.gif`: stick-figure animation of a motion file."""
from __future__ import annotations

import argparse


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    render = groups["top"].add_parser(
        "render", help="render a motion (.npy joints (T,22,3) or features (T,263)) as a stick-figure GIF/MP4",
        description="Draw a stick-figure animation of a 20 fps SMPL motion with the ground plane and root path. "
                    "Feature files (T,263, un-normalised) are decoded with recover_from_ric.")
    render.add_argument("motion", help="input .npy: joints (T,22,3) or features (T,263)")
    render.add_argument("out", help="output .gif (or .mp4 where an ffmpeg backend is installed)")
    render.add_argument("--fps", type=float, default=20.0, help="playback frame rate (default 20)")
    render.add_argument("--size", type=int, default=320, help="image width and height in pixels (default 320)")
    render.add_argument("--title", default=None, help="text drawn above the figure")
    render.add_argument("--every", type=int, default=1, help="keep every N-th frame (smaller files)")
    render.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    import time

    from motiongpt.render import RenderError, RenderOptions, load_motion, render_motion

    if args.every < 1 or args.size < 32 or args.fps <= 0:
        raise RenderError("--every must be >= 1, --size >= 32 and --fps > 0")
    started = time.perf_counter()
    joints = load_motion(args.motion)[:: args.every]
    options = RenderOptions(fps=args.fps / args.every, size_px=args.size, title=args.title)
    out = render_motion(joints, args.out, options, source=args.motion)
    print(f"wrote {out}: {len(joints)} frames in {time.perf_counter() - started:.1f} s")
    return 0
