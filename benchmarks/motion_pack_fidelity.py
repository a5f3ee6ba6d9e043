"""How close a dataset built from a motion pack is to the one built from the sources (docs/training_on_a_gpu.md).

    motiongpt data pack-motions --bandai <Bandai-Namco-Research-Motiondataset> --out data/motions.npz
    motiongpt data build-embedded --out /tmp/from-pack --pack data/motions.npz
    python benchmarks/motion_pack_fidelity.py --sources data/embedded --from-pack /tmp/from-pack

Prints which listing files are byte for byte equal, how many motions have identical captions and identical features,
the joints recovered from the features (new_joints) as the median and largest of each motion's largest difference
(mm), the share of frames whose foot contacts agree, and the largest difference of Mean (in Stds) and of Std
(relative).
"""
from __future__ import annotations

import argparse
import filecmp
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="data/embedded", help="the dataset built from the sources")
    parser.add_argument("--from-pack", required=True, help="the dataset built from the pack")
    args = parser.parse_args()
    a, b = Path(args.sources), Path(args.from_pack)
    listings = {name: filecmp.cmp(a / name, b / name, shallow=False)
                for name in ("train.txt", "val.txt", "test.txt", "all.txt", "actions.json", "styles.json", "LICENSE.md")}
    names = (a / "all.txt").read_text().split()
    same_texts = same_features = 0
    largest_mm, contacts = [], []
    for name in names:
        same_texts += filecmp.cmp(a / "texts" / f"{name}.txt", b / "texts" / f"{name}.txt", shallow=False)
        fa, fb = (np.load(root / "new_joint_vecs" / f"{name}.npy") for root in (a, b))
        ja, jb = (np.load(root / "new_joints" / f"{name}.npy") for root in (a, b))
        if fa.shape != fb.shape:
            raise SystemExit(f"{name}: {fa.shape} features against {fb.shape}")
        same_features += bool(np.array_equal(fa, fb))
        largest_mm.append(float(np.abs(ja - jb).max()) * 1000)
        contacts.append(fa[:, -4:] == fb[:, -4:])
    std = np.load(a / "Std.npy")
    stats = {"mean_in_stds": float((np.abs(np.load(a / "Mean.npy") - np.load(b / "Mean.npy")) / std).max()),
             "std_relative": float((np.abs(std - np.load(b / "Std.npy")) / std).max())}
    print(json.dumps({
        "listings_identical": listings, "motions": len(names), "captions_identical": same_texts,
        "features_identical": same_features,
        "recovered_joints_largest_difference_mm": {"median": round(float(np.median(largest_mm)), 3),
                                                   "p99": round(float(np.percentile(largest_mm, 99)), 3),
                                                   "max": round(max(largest_mm), 3)},
        "foot_contacts_agree": round(float(np.concatenate(contacts).mean()), 6),
        "normalisation_largest_relative_difference": stats}, indent=1))


if __name__ == "__main__":
    main()
