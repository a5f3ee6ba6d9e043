"""How this package's executables run a node: rclpy up, one SingleThreadedExecutor spun until SIGINT or
shutdown, bad configuration as one line on stderr, everything torn down."""
from __future__ import annotations

import sys
from typing import Any, Callable


def spin_until_shutdown(make_node: Callable[[], Any], name: str, configuration_errors: tuple[type[Exception], ...],
                        argv: list[str] | None = None, close: Callable[[Any], None] | None = None) -> tuple[Any, int]:
    """Build the node with ``make_node`` and spin it; returns (the node or None, exit code): 2 with one line
    ``<name>: error: ...`` on stderr when building or spinning raised one of ``configuration_errors``, else 0.
    ``close(node)`` runs before the node is destroyed."""
    import signal
    import threading

    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    # Python's SIGINT handler, below rclpy's (which chains to it): it records the interrupt, then raises
    # KeyboardInterrupt as the default one does. A SIGINT that lands inside a pybind11 call (a subscription's
    # take_message) surfaces as that call's RuntimeError ("Unable to convert call argument"), not as
    # KeyboardInterrupt, while the context is still valid; the record tells that shutdown from a real failure.
    interrupted = threading.Event()

    def on_sigint(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    on_main_thread = threading.current_thread() is threading.main_thread()
    previous_handler = signal.getsignal(signal.SIGINT)
    if on_main_thread:
        signal.signal(signal.SIGINT, on_sigint)
    rclpy.init(args=argv if argv is not None else sys.argv)
    node, code = None, 0
    try:
        node = make_node()
        # Callbacks only convert and queue (models and physics run in the nodes' own threads or timers), so one
        # executor thread suffices; rclpy's MultiThreadedExecutor spun in Python and starved the MotionGPT node's
        # worker of the GIL (measured with py-spy: the worker got ~2% of the samples; generation took 5-30x
        # longer than standalone).
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except configuration_errors as error:  # bad parameters, a missing URDF or robot file: one line
        print(f"{name}: error: {error}", file=sys.stderr)
        code = 2
    except Exception:
        # SIGINT shuts the context down from rclpy's signal handler; a wait set built in that instant raises
        # RCLError ("the given context is not valid") instead of ExternalShutdownException (seen in CI), and a
        # SIGINT inside a message take raises RuntimeError (above; seen in CI). Both are a clean shutdown;
        # anything raised while the context is valid and no SIGINT came is a real failure.
        if rclpy.ok() and not interrupted.is_set():
            raise
    finally:
        if node is not None:
            if close is not None:
                close(node)
            node.destroy_node()
        rclpy.try_shutdown()
        if on_main_thread:
            signal.signal(signal.SIGINT, previous_handler)
    return node, code


def executor_future(node: Any) -> Any:
    """An rclpy Future that may be completed from any thread: its (empty) done callback, scheduled on the node's
    executor when the future completes, wakes that executor, which then resumes the coroutine awaiting it."""
    from rclpy.task import Future

    future = Future(executor=node.executor)
    future.add_done_callback(lambda _: None)
    return future


def request_on_executor(executor: Any, request: Callable[[], Any]) -> Any:
    """``request()``, an rclpy action client's asynchronous request (``send_goal_async``, ``get_result_async``,
    ``cancel_goal_async``), run by ``executor``'s own thread; returns a Future of the request's result, whose
    callbacks run on that executor.

    rclpy's ActionClient (rclpy 7, Jazzy) registers a request's sequence number only after sending it. Sent from
    any other thread than the one spinning its executor, the server's answer can be taken in between: it is
    dropped ("Ignoring unexpected goal response") and the request's future never completes (a wire test hung on a
    loaded machine). The executor's thread cannot take the answer while it is sending."""
    from rclpy.task import Future

    answer = Future(executor=executor)

    def send() -> None:
        try:
            pending = request()
        except Exception as error:  # the client destroyed, the context shut down: the caller hears of it
            answer.set_exception(error)
            return
        pending.add_done_callback(lambda done: answer.set_exception(done.exception())
                                  if done.exception() is not None else answer.set_result(done.result()))

    executor.create_task(send)
    return answer
