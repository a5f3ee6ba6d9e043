"""Entry point of the `motiongpt_node` executable (`ros2 run motiongpt_node motiongpt_node`).

The ROS 2 node is not implemented yet (issue 6). This placeholder exits with a clear message and
a non-zero status instead of pretending to work.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print(
        "motiongpt_node: the ROS 2 node is not implemented yet (see issue 6). "
        "Use the `motiongpt` command line for generation and retargeting meanwhile.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
