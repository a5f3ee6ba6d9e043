"""The main job end to end, over a real DDS wire: words in, a robot trajectory out, played in MuJoCo.

Starts the node (a subprocess, parameters from config/motiongpt_node.yaml) with the shipped model and
the G1, acts as the robot (streams /joint_states at 50 Hz) and as the user (sends a spoken-style
command on /command), prints the trajectory it receives with the timings, plays it in
the MuJoCo check of the retargeting package, writes the animation, and leaves everything in --out:
trajectory.json, mujoco_check.json, robot.gif (or .mp4), node.log, and bag/ (the node's inputs and
outputs as a rosbag2 mcap).

    bash scripts/run_isolated.sh .venv/bin/python -m motiongpt_node.demo --out out/demo
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
PARAMS_FILE = REPO / "config" / "motiongpt_node.yaml"
DEFAULT_COMMAND = "Hey robot, please walk forward, then wave with your right hand."
SHOWN_JOINTS = ("left_hip_pitch_joint", "left_knee_joint", "right_hip_pitch_joint", "right_knee_joint",
                "left_shoulder_pitch_joint", "right_shoulder_pitch_joint", "right_elbow_joint")


def isolate() -> None:
    """Keep DDS on this machine: its own domain; localhost discovery unless already in a loopback-only namespace."""
    os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 200)))
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")
    os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering when EGL exists; else frames are drawn
    if sorted(os.listdir("/sys/class/net")) != ["lo"]:
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"


def start_node(out: Path, overrides: dict) -> subprocess.Popen:
    document = yaml.safe_load(PARAMS_FILE.read_text())
    document["/**"]["ros__parameters"].update(overrides)
    params = out / "params.yaml"
    params.write_text(yaml.safe_dump(document))
    log = open(out / "node.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "motiongpt_node.main", "--ros-args", "--params-file", str(params)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def stop_node(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class DemoClient:
    """An rclpy node playing the robot driver and the user."""

    def __init__(self, joint_names: list[str], standing: np.ndarray) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
        from nav_msgs.msg import Path as PathMsg
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from sensor_msgs.msg import JointState
        from std_msgs.msg import String
        from trajectory_msgs.msg import JointTrajectory

        self.node = Node("motiongpt_demo_client")
        self.joint_names, self.standing = joint_names, standing
        self.JointState, self.String = JointState, String
        self.alarm_levels = (DiagnosticStatus.WARN, DiagnosticStatus.ERROR)  # bytes in rclpy, as the node sends
        self.lock = threading.Condition()  # the callbacks notify the waits of every message kept
        self.inbox: dict[str, list] = {"trajectory": [], "status": [], "path": [], "description": []}
        self.received_at: list[float] = []
        self.joint_pub = self.node.create_publisher(JointState, "/joint_states", 10)
        self.command_pub = self.node.create_publisher(String, "/command", 10)
        self.node.create_subscription(JointTrajectory, "/joint_trajectory",
                                      self._keep("trajectory", stamp=True), 10)
        self.node.create_subscription(DiagnosticArray, "/motiongpt_node/status", self._keep("status"), 100)
        self.node.create_subscription(PathMsg, "/motiongpt_node/base_path", self._keep("path"), 10)
        self.node.create_subscription(String, "/motiongpt_node/description", self._keep("description"), 10)
        self.node.create_timer(0.02, self._publish_joint_state)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()
        self._rclpy = rclpy

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # noqa: BLE001 - shutdown while spinning
            pass

    def _keep(self, key: str, stamp: bool = False):
        def callback(message) -> None:
            with self.lock:
                self.inbox[key].append(message)
                if stamp:
                    self.received_at.append(time.perf_counter())
                self.lock.notify_all()
        return callback

    def _publish_joint_state(self) -> None:
        self.joint_pub.publish(self.JointState(name=self.joint_names, position=self.standing.tolist()))

    def wait(self, key: str, predicate, timeout: float, since: int = 0):
        return self.first({key: predicate}, timeout, {key: since})[1]

    def first(self, waits: dict[str, object], timeout: float, marks: dict[str, int]) -> tuple[str, object]:
        """(key, message) of the first message after ``marks[key]`` that its ``waits[key]`` predicate accepts,
        over several topics at once."""
        seen = dict(marks)  # messages before these were already judged

        def found():
            for key, predicate in waits.items():
                for message in self.inbox[key][seen[key]:]:
                    if predicate(message):
                        return key, message
                seen[key] = len(self.inbox[key])
            return None

        with self.lock:
            answer = self.lock.wait_for(found, timeout)
        if answer is None:
            raise TimeoutError(f"nothing on {', '.join(waits)} within {timeout} s")
        return answer

    def count(self, key: str) -> int:
        with self.lock:
            return len(self.inbox[key])

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def status_values(message) -> dict[str, str]:
    return {kv.key: kv.value for kv in message.status[0].values}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Command the G1 in words over ROS 2 and play the result in MuJoCo.")
    parser.add_argument("command", nargs="?", default=DEFAULT_COMMAND)
    parser.add_argument("--model", default="", help="MotionGPT model folder (default: the shipped models/motiongpt-small)")
    parser.add_argument("--robot", default="g1")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--seconds-per-step", type=float, default=0.0, help="0: the model decides")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="out/demo")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if (out / "bag").exists():
        if not (out / "bag" / "metadata.yaml").is_file():
            raise SystemExit(f"motiongpt_node.demo: {out}/bag exists and is not a bag from an earlier run")
        import shutil

        shutil.rmtree(out / "bag")  # the bag of an earlier demo run
    out.mkdir(parents=True, exist_ok=True)
    isolate()

    from retargeting.robot_config import load_robot_config
    from retargeting.robot_model import RobotModel

    from motiongpt_node.joint_limits import JointLimits

    robot = RobotModel(load_robot_config(args.robot))
    limits = JointLimits.for_robot(args.robot)
    standing = np.clip(np.zeros(len(limits.joint_names)), limits.lower, limits.upper)
    for name, value in zip(robot.joint_names, robot.rest_posture):
        standing[limits.joint_names.index(name)] = value

    overrides = {"robot": args.robot, "device": args.device, "seed": args.seed, "record_bag": str(out / "bag"),
                 "seconds_per_step": float(args.seconds_per_step)}
    if args.model:
        overrides["model_path"] = str(Path(args.model).resolve())
    process = start_node(out, overrides)
    import rclpy

    rclpy.init()
    client = DemoClient(list(limits.joint_names), standing)
    try:
        ready = client.wait("status", lambda s: status_values(s).get("state") not in (None, "loading"), args.timeout)
        if status_values(ready)["state"] != "ready":
            raise SystemExit(f"motiongpt_node.demo: the node is not ready: {ready.status[0].message}")
        deadline = time.monotonic() + 30
        while client.command_pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        # the node refuses a command until it has the robot's joint state: wait until its status says it has one
        client.wait("status", lambda s: status_values(s).get("joint_state_age_s", "none") != "none", 30)
        marks = {key: client.count(key) for key in client.inbox}
        print(f"command  : {args.command!r}")
        sent = time.perf_counter()
        client.command_pub.publish(client.String(data=args.command))
        # a refused command (out of the model's vocabulary, not allowed, too long ...) gets a WARN status instead
        key, answer = client.first(
            {"trajectory": lambda m: True, "status": lambda s: s.status[0].level in client.alarm_levels},
            args.timeout, marks)
        if key == "status":
            print(f"refused  : {answer.status[0].message}", file=sys.stderr)
            return 2
        trajectory = answer
        latency = client.received_at[marks["trajectory"]] - sent
        report = client.wait("status", lambda s: s.status[0].message.startswith("published command"), 30, marks["status"])
        path = client.wait("path", lambda m: True, 30, marks["path"])
        timings = {k: float(v) for k, v in status_values(report).items() if k.endswith("_s")}
        stretch = float(status_values(report).get("motion_stretch", "nan"))  # 1.0: the motion kept its time
        try:
            caption = client.wait("description", lambda m: True, 120, marks["description"]).data
        except TimeoutError:
            caption = "(no caption)"
    finally:
        client.close()
        rclpy.try_shutdown()
        code = stop_node(process)

    names = list(trajectory.joint_names)
    times = np.array([p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in trajectory.points])
    positions = np.array([list(p.positions) for p in trajectory.points])
    print(f"received : {len(times)} points for {len(names)} joints, {times[-1]:.2f} s of motion "
          f"({stretch:.3f}x the generated motion's time), {latency:.2f} s after sending")
    print("timings  : " + ", ".join(f"{k} {timings[k]:.3f}" for k in
                                    ("generation_s", "retargeting_s", "shaping_s", "total_s") if k in timings)
          + f", transport {latency - timings.get('total_s', 0.0):.3f} s")
    print(f"caption  : {caption}")
    shown = [names.index(n) for n in SHOWN_JOINTS if n in names]
    print("  t (s) | " + " ".join(f"{names[j][:-6]:>15}" for j in shown))
    step = max(1, len(times) // 20)
    for i in list(range(0, len(times), step)) + ([len(times) - 1] if (len(times) - 1) % step else []):
        print(f"{times[i]:7.2f} | " + " ".join(f"{positions[i, j]:15.3f}" for j in shown))
    (out / "trajectory.json").write_text(json.dumps(
        {"command": args.command, "caption": caption, "joint_names": names, "times": times.tolist(),
         "positions": positions.tolist(), "latency_s": latency, "timings": timings, "motion_stretch": stretch},
        indent=1))

    from retargeting.mujoco_check import check_motion
    from retargeting.render import render_robot_motion

    from motiongpt_node.executed_motion import robot_motion_from_trajectory

    start = path.header.stamp.sec + path.header.stamp.nanosec * 1e-9
    base_times = np.array([p.header.stamp.sec + p.header.stamp.nanosec * 1e-9 - start for p in path.poses])
    base = np.array([[p.pose.position.x, p.pose.position.y, p.pose.position.z] for p in path.poses])
    quats = np.array([[p.pose.orientation.x, p.pose.orientation.y, p.pose.orientation.z, p.pose.orientation.w]
                      for p in path.poses])
    motion = robot_motion_from_trajectory(robot, names, times, positions, base_times, base, quats)
    check = check_motion(robot, motion)
    (out / "mujoco_check.json").write_text(json.dumps(check, indent=1))
    print("MuJoCo   : " + json.dumps(check))
    animation, backend = render_robot_motion(robot, motion, out / "robot.gif")
    print(f"animation: {animation} ({backend})")
    print(f"bag      : {out / 'bag'} (node exit code {code})")
    if not check["passed"]:
        print("MuJoCo check FAILED: " + "; ".join(check["failures"]), file=sys.stderr)
        return 1
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
