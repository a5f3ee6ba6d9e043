"""Bandai Namco conversion speed: list_takes + take_joints over an unpacked copy of the dataset, one process.

    python benchmarks/bandai_conversion.py ROOT      # ROOT: the repository, its dataset/ folder or one dataset folder

Prints the takes, the seconds to list and to convert them, files per second and the frames at 20 fps.
"""
from __future__ import annotations

import argparse
import time

from motiongpt.data.bandai import list_takes, take_joints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    args = parser.parse_args()
    started = time.perf_counter()
    takes = list_takes(args.root)
    listed = time.perf_counter()
    frames = sum(len(take_joints(take)) for take in takes)
    done = time.perf_counter()
    print(f"{len(takes)} takes listed in {listed - started:.2f} s; converted in {done - listed:.1f} s "
          f"({len(takes) / (done - listed):.1f} files/s), {frames} frames at 20 fps")


if __name__ == "__main__":
    main()
