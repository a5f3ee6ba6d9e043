"""Entry point of the `motiongpt_node` executable (`ros2 run motiongpt_node motiongpt_node --ros-args ...`)."""
from __future__ import annotations

import os
import sys

# Numerical libraries read these once, at import. The retargeter's small matrices gain nothing from
# BLAS threads, and busy BLAS/OpenMP threads starve the executor on a few shared cores (measured: joint
# states went unprocessed for 2.5 s during retargeting with the defaults). Torch's own thread count is
# the cpu_threads parameter. Set these variables in the environment to choose otherwise.
NUMERIC_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def main(argv: list[str] | None = None) -> int:
    for variable in NUMERIC_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    from rclpy.exceptions import ParameterException

    from motiongpt_node.spinning import spin_until_shutdown

    def make_node():
        from motiongpt_node.node import MotionGPTNode
        return MotionGPTNode()

    node, code = spin_until_shutdown(make_node, "motiongpt_node", (ValueError, ParameterException), argv,
                                     close=lambda n: n.close())
    if code == 0 and node is not None and node.fatal_error:
        # The model or the retargeter could not be loaded (stay_up_on_error is false): one line, exit code 1.
        print(f"motiongpt_node: error: {node.fatal_error}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
