"""`motiongpt data ...`: build the embedded DeepMimic dataset, inspect a HumanML3D-layout dataset, list captions."""
from __future__ import annotations

import argparse


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    data = groups["data"]
    build = data.add_parser(
        "build-embedded",
        help="build the embedded mocap dataset (DeepMimic clips from pybullet) in the HumanML3D layout",
        description="Convert the 20 DeepMimic human clips shipped in pybullet to 22-joint SMPL motions at 20 fps, "
                    "add captions and augmentations, and write them in the HumanML3D layout. Deterministic.")
    build.add_argument("--out", default="data/embedded", help="output folder (default: data/embedded)")
    build.add_argument("--seed", type=int, default=1234, help="seed of the random lengths/phases (default: 1234)")
    build.set_defaults(func=run_build_embedded)

    info = data.add_parser(
        "info", help="load the splits of a HumanML3D-layout dataset and print what was kept and skipped",
        description="Load each split with the HumanML3D length filter and report records, frames and skipped files.")
    info.add_argument("root", help="dataset folder (new_joint_vecs/, texts/, train.txt, ...)")
    info.add_argument("--splits", nargs="+", default=["train", "val", "test"], help="splits to load")
    info.add_argument("--min-frames", type=int, default=40)
    info.add_argument("--max-frames", type=int, default=200)
    info.add_argument("--strict", action="store_true", help="fail on a listed name whose files are missing")
    info.set_defaults(func=run_info)

    captions = data.add_parser(
        "captions", help="write the distinct captions of a split, one per line (a model's grounding captions)",
        description="Write the distinct captions of one split of a HumanML3D-layout dataset, sorted, one per line: "
                    "the caption file of a model folder's text_to_motion grounding (motiongpt.lm.text_grounding).")
    captions.add_argument("--data", default="data/embedded", help="dataset folder (default: data/embedded)")
    captions.add_argument("--split", default="train", help="split whose captions to write (default: train)")
    captions.add_argument("--out", required=True, help="caption file to write")
    captions.set_defaults(func=run_captions)


def run_build_embedded(args: argparse.Namespace) -> int:
    import time

    from motiongpt.data.embedded import EmbeddedConfig, build_embedded

    started = time.perf_counter()
    summary = build_embedded(args.out, EmbeddedConfig(seed=args.seed))
    print("\n".join(summary.lines()))
    print(f"built in {time.perf_counter() - started:.1f} s")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from motiongpt.data.humanml3d import load_split_with_report

    for split in args.splits:
        records, report = load_split_with_report(args.root, split, args.min_frames, args.max_frames, strict=args.strict)
        frames = sum(record.frames for record in records)
        captions = sum(len(record.captions) for record in records)
        print(f"{split}: {len(records)} records, {frames} frames ({frames / 20.0 / 60.0:.1f} min), {captions} captions")
        print(f"  {report.summary()}")
    return 0


def run_captions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from motiongpt.data.humanml3d import load_split
    from motiongpt.lm.text_grounding import read_caption_file, write_caption_file

    records = load_split(args.data, args.split)
    path = write_caption_file(Path(args.out), [c.text for r in records for c in r.captions])
    print(f"{path}: {len(read_caption_file(path))} distinct captions of {args.data} {args.split}")
    return 0
