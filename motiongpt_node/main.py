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
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from rclpy.exceptions import ParameterException

    rclpy.init(args=argv if argv is not None else sys.argv)
    node = None
    try:
        from motiongpt_node.node import MotionGPTNode

        node = MotionGPTNode()
        # Callbacks only convert and queue (the model runs in the node's own worker thread), so one executor
        # thread suffices; rclpy's MultiThreadedExecutor spun in Python and starved the worker of the GIL
        # (measured with py-spy: the worker got ~2% of the samples; generation took 5-30x longer than standalone).
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, ParameterException) as error:  # bad parameters, a missing URDF or robot file: one line
        print(f"motiongpt_node: error: {error}", file=sys.stderr)
        return 2
    except Exception:
        # SIGINT shuts the context down from rclpy's signal handler; a wait set built in that instant raises
        # RCLError ("the given context is not valid") instead of ExternalShutdownException (seen in CI).
        # That is still a clean shutdown; anything raised while the context is valid is a real failure.
        if rclpy.ok():
            raise
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    if node is not None and node.fatal_error:
        # The model or the retargeter could not be loaded (stay_up_on_error is false): one line, exit code 1.
        print(f"motiongpt_node: error: {node.fatal_error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
