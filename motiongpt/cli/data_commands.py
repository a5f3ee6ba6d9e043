"""`motiongpt data ...`: build the embedded DeepMimic dataset, inspect a HumanML3D-layout dataset, list captions."""
from __future__ import annotations

import argparse
import os


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    data = groups["data"]
    build = data.add_parser(
        "build-embedded",
        help="build the embedded mocap dataset (DeepMimic clips from pybullet, plus Bandai Namco with --bandai) "
             "in the HumanML3D layout",
        description="Convert the 20 DeepMimic human clips shipped in pybullet (and, with --bandai, the takes of the "
                    "Bandai Namco Research motion dataset) to 22-joint SMPL motions at 20 fps, add composed captions "
                    "and augmentations, and write them in the HumanML3D layout. Deterministic.")
    build.add_argument("--out", default="data/embedded", help="output folder (default: data/embedded)")
    build.add_argument("--seed", type=int, default=1234, help="seed of the random lengths/phases (default: 1234)")
    build.add_argument("--bandai", default=None, metavar="PATH",
                       help="an unpacked copy of the Bandai-Namco-Research-Motiondataset repository (or its dataset/ "
                            "folder, or the .tar.xz archive): add its 3,000 takes (CC BY-NC 4.0: non-commercial)")
    build.add_argument("--pack", default=None, metavar="FILE",
                       help="a motion pack (motiongpt data pack-motions) to build from, instead of pybullet's DeepMimic "
                            "clips and --bandai")
    build.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="processes computing the features (default: one per core; the files are the same for any "
                            "number)")
    build.set_defaults(func=run_build_embedded)

    pack = data.add_parser(
        "pack-motions", help="write the embedded dataset's source motions into one compact file (a motion pack)",
        description="Write the DeepMimic clip files of pybullet_data and, with --bandai, the 22 SMPL joints of every "
                    "Bandai Namco take (20 fps, in 0.1 mm steps) into one compressed file, from which "
                    "'build-embedded --pack FILE' builds the same dataset on a machine without pybullet or the BVH "
                    "files (a training machine). About 22 MB with the Bandai takes.")
    pack.add_argument("--out", required=True, help="pack file to write (.npz)")
    pack.add_argument("--bandai", default=None, metavar="PATH",
                      help="the Bandai Namco data, as for build-embedded (CC BY-NC 4.0: the pack is non-commercial too)")
    pack.set_defaults(func=run_pack_motions)

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

    import_bvh = data.add_parser(
        "import-bvh", help="convert BVH files to 22-joint SMPL motions in a HumanML3D-layout folder",
        description="Read BVH files (Y up), map their joints to the 22 SMPL joints, resample to 20 fps and write "
                    "new_joints/NAME.npy, new_joint_vecs/NAME.npy and texts/NAME.txt (caption#tokens#0.0#0.0), "
                    "and append the names to SPLIT.txt. Files with the Bandai Namco Research skeleton need no "
                    "map; others need --joint-map, a YAML mapping SMPL joint names to BVH joint names, e.g. "
                    "'pelvis: Hips', 'left_wrist: LeftHand', 'head: {joint: Head, offset: [0, 5, 0]}' (offset in "
                    "file units, the joint's local frame) and optionally 'spine_chain: [Spine, Spine1]'; "
                    "spine1/2/3 and the collars may be left out (synthesised, see motiongpt.data.bandai).")
    import_bvh.add_argument("files", nargs="+", help="BVH files")
    import_bvh.add_argument("--out", required=True, help="dataset folder (created or added to)")
    import_bvh.add_argument("--caption", action="append", required=True,
                            help="caption of every imported motion (repeat for several)")
    import_bvh.add_argument("--split", default="train", help="split file to append the names to (default: train)")
    import_bvh.add_argument("--joint-map", help="YAML joint map for a non-Bandai skeleton")
    import_bvh.add_argument("--fps-source", default="auto",
                            help="frame rate of the files: 'auto' (from Frame Time) or a number")
    import_bvh.add_argument("--scale", default="auto",
                            help="metres per file unit: 'auto' (0.01 if the legs measure over 5 units) or a number")
    import_bvh.set_defaults(func=run_import_bvh)


def run_build_embedded(args: argparse.Namespace) -> int:
    import time

    from motiongpt.data.embedded import EmbeddedConfig, build_embedded

    started = time.perf_counter()
    summary = build_embedded(args.out, EmbeddedConfig(seed=args.seed), bandai=args.bandai, pack=args.pack,
                             workers=args.workers)
    print("\n".join(summary.lines()))
    print(f"built in {time.perf_counter() - started:.1f} s")
    return 0


def run_pack_motions(args: argparse.Namespace) -> int:
    import time

    from motiongpt.data.motion_pack import write_pack

    started = time.perf_counter()
    pack = write_pack(args.out, bandai=args.bandai)
    frames = sum(len(joints) for joints in pack.bandai_joints)
    print(f"{args.out}: {os.path.getsize(args.out) / 1e6:.1f} MB; {len(pack.deepmimic_files)} DeepMimic clip files, "
          f"{len(pack.bandai_takes)} Bandai Namco takes ({frames} frames at 20 fps, {frames / 20 / 3600:.2f} h)")
    print("licences:\n" + "\n".join(f"- {text}" for text in pack.licences))
    print(f"packed in {time.perf_counter() - started:.1f} s")
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


def caption_line(text: str) -> str:
    """``caption#tokens#0.0#0.0``; the tokens field is empty when a word is not in the caption lexicon."""
    from motiongpt.data.captions import CaptionError, tag_caption

    text = " ".join(text.split()).replace("#", " ")
    try:
        tokens = tag_caption(text)
    except CaptionError:
        tokens = ""
    return f"{text}#{tokens}#0.0#0.0"


def run_import_bvh(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from motiongpt.data import bandai
    from motiongpt.data.bvh import read_bvh
    from motiongpt.features import joints_to_features, recover_from_ric

    fps_source = None if args.fps_source == "auto" else float(args.fps_source)
    scale = None if args.scale == "auto" else float(args.scale)
    joint_map = bandai.load_joint_map(args.joint_map) if args.joint_map else None
    captions = [c.strip() for c in args.caption if c.strip()]
    if not captions:
        raise ValueError("import-bvh: give at least one non-empty --caption")
    out = Path(args.out)
    for folder in ("new_joints", "new_joint_vecs", "texts"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    names = []
    for file in args.files:
        bvh = read_bvh(file)
        mapping = joint_map
        if mapping is None:
            if not bandai.is_bandai_skeleton(bvh):
                raise ValueError(f"{file}: not the Bandai Namco skeleton; give --joint-map FILE.yaml "
                                 f"(its joints: {', '.join(bvh.names)})")
            mapping = bandai.BANDAI_JOINT_MAP
        joints = bandai.bvh_to_joints(bvh, mapping, source_fps=fps_source, scale=scale)
        features = joints_to_features(joints, source=file).astype(np.float32)
        name = Path(file).stem
        np.save(out / "new_joint_vecs" / f"{name}.npy", features)
        np.save(out / "new_joints" / f"{name}.npy", recover_from_ric(features).astype(np.float32))
        (out / "texts" / f"{name}.txt").write_text("\n".join(caption_line(c) for c in captions) + "\n",
                                                   encoding="utf-8")
        names.append(name)
        print(f"{file}: {len(joints)} frames at 20 fps -> {name}")
    split = out / f"{args.split}.txt"
    existing = split.read_text(encoding="utf-8").split() if split.exists() else []
    added = [n for n in names if n not in existing]
    split.write_text("".join(f"{n}\n" for n in existing + added), encoding="utf-8")
    print(f"{out}: {len(names)} motion(s) written, {len(added)} name(s) added to {split.name}")
    return 0
