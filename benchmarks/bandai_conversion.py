"""Time list_takes + take_joints over an unpacked Bandai Namco dataset: python benchmarks/bandai_conversion.py ROOT."""
import sys, time
import numpy as np
from motiongpt.data.bandai import list_takes, take_joints
t = time.perf_counter()
takes = list_takes(sys.argv[1])
t1 = time.perf_counter()
frames = 0
for take in takes:
    frames += len(take_joints(take))
t2 = time.perf_counter()
print(f"{len(takes)} takes listed in {t1-t:.2f}s; converted in {t2-t1:.1f}s ({len(takes)/(t2-t1):.1f} files/s), {frames} frames at 20 fps")
