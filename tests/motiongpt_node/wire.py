"""Wire-test harness: the node as a real subprocess, and a test client on Cyclone DDS (another vendor).

The node runs `python -m motiongpt_node.main --ros-args --params-file FILE` with real rclpy
(rmw_fastrtps). The client speaks plain DDS with the ROS 2 names and types of dds_types.py.
Run the tests inside `scripts/run_isolated.sh` (a loopback-only network namespace). Outside one,
this module confines both sides to 127.0.0.1 (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a Cyclone
config without multicast), and every run uses its own random domain id.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parents[2]
PARAMS_FILE = REPO / "config" / "motiongpt_node.yaml"
NODE = "/motiongpt_node"

CYCLONE_LOCALHOST_CONFIG = """<CycloneDDS><Domain id="any"><General>
<Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces><AllowMulticast>false</AllowMulticast>
</General><Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>60</MaxAutoParticipantIndex>
<Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>"""


def only_loopback() -> bool:
    """True inside a network namespace whose only interface is lo."""
    return sorted(os.listdir("/sys/class/net")) == ["lo"]


def isolate_environment() -> int:
    """Set the environment so nothing leaves the machine; returns the domain id for this run."""
    domain = random.SystemRandom().randint(1, 200)
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")  # no shared-memory files in /dev/shm
    if not only_loopback():
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
        os.environ["CYCLONEDDS_URI"] = CYCLONE_LOCALHOST_CONFIG
    return domain


class NodeProcess:
    """The node as a subprocess with a parameter file; stopped with SIGINT (then killed if it hangs)."""

    def __init__(self, overrides: dict[str, Any], workdir: Path) -> None:
        document = yaml.safe_load(PARAMS_FILE.read_text())
        document["/**"]["ros__parameters"].update(overrides)
        self.params_file = workdir / "params.yaml"
        self.params_file.write_text(yaml.safe_dump(document))
        self.log_file = workdir / "node.log"
        self._log = open(self.log_file, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "motiongpt_node.main", "--ros-args", "--params-file", str(self.params_file)],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_file.read_text(errors="replace")

    def stop(self) -> int:
        code = stop_process(self.process)
        self._log.close()
        return code


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGINT (a ROS node's clean shutdown), then SIGKILL if it hangs; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


class WireClient:
    """Cyclone DDS participant with writers and readers on the node's ROS 2 topics."""

    def __init__(self, domain: int) -> None:
        from cyclonedds.core import Qos, Policy
        from cyclonedds.domain import DomainParticipant
        from cyclonedds.pub import DataWriter
        from cyclonedds.sub import DataReader
        from cyclonedds.topic import Topic
        from cyclonedds.util import duration

        from tests.motiongpt_node import dds_types as t

        self.t = t
        self.participant = DomainParticipant(domain)
        reliable = Policy.Reliability.Reliable(duration(seconds=1))
        self._writer_qos = Qos(reliable, Policy.History.KeepLast(10))
        self._reader_qos = Qos(reliable, Policy.History.KeepAll)
        self._topics: dict[str, Any] = {}
        self._make = (Topic, DataWriter, DataReader)
        self.writers: dict[str, Any] = {}
        self.readers: dict[str, Any] = {}
        self._received: dict[int, list[Any]] = {}

    def _topic(self, ros_topic: str, cls: type) -> Any:
        if ros_topic not in self._topics:
            self._topics[ros_topic] = self._make[0](self.participant, self.t.dds_topic(ros_topic), cls)
        return self._topics[ros_topic]

    def writer(self, ros_topic: str, cls: type) -> Any:
        if ros_topic not in self.writers:
            self.writers[ros_topic] = self._make[1](self.participant, self._topic(ros_topic, cls), qos=self._writer_qos)
        return self.writers[ros_topic]

    def reader(self, ros_topic: str, cls: type) -> Any:
        if ros_topic not in self.readers:
            self.readers[ros_topic] = self._make[2](self.participant, self._topic(ros_topic, cls), qos=self._reader_qos)
        return self.readers[ros_topic]

    @staticmethod
    def wait_matched(endpoint: Any, timeout: float = 15.0) -> None:
        """Wait until a writer has a matched reader (or a reader a matched writer): discovery, not sleep."""
        deadline = time.monotonic() + timeout
        status = getattr(endpoint, "get_publication_matched_status", None) or endpoint.get_subscription_matched_status
        while status().current_count == 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no match on {endpoint.topic.name} within {timeout} s")
            time.sleep(0.02)

    def prepare_service(self, ros_service: str) -> str:
        """Create and match this client's request writer and reply reader of a std_srvs/Trigger service (once);
        returns their key."""
        key = "service:" + ros_service
        if key not in self.writers:
            request_topic, reply_topic = self.t.service_topics(ros_service)
            Topic, DataWriter, DataReader = self._make
            self.writers[key] = DataWriter(self.participant, Topic(self.participant, request_topic, self.t.TriggerRequest),
                                           qos=self._writer_qos)
            self.readers[key] = DataReader(self.participant, Topic(self.participant, reply_topic, self.t.TriggerResponse),
                                           qos=self._reader_qos)
            self.wait_matched(self.writers[key])
            self.wait_matched(self.readers[key])
        return key

    def call_trigger(self, ros_service: str, timeout: float = 30.0, resend_after: float | None = None) -> Any:
        """Call a std_srvs/Trigger service over DDS (request and reply topics, as every rmw maps them).

        Both of this client's endpoints are matched before the call, but the match is seen from this side: the
        node's reply writer may not have discovered this reader yet, and rmw_fastrtps then waits 100 ms for it
        and drops the reply ("client will not receive response"), which happened once under load. For a service
        whose call can be repeated without effect (~/describe), ``resend_after`` (s) writes the request again
        until a reply comes; a call that acts (~/execute, ~/cancel) is sent once: first make a call that changes
        nothing, resent until answered (the preview tests' fixture calls ~/execute with nothing previewed), or at
        least prepare the endpoints well before (`prepare_service`; the node's side of the match cannot be seen
        from here)."""
        key = self.prepare_service(ros_service)
        self.readers[key].take(N=100)  # replies of earlier calls
        self.writers[key].write(self.t.TriggerRequest())
        start = time.monotonic()
        sent = start
        while time.monotonic() < start + timeout:
            replies = self.readers[key].take(N=10)
            if replies:
                return replies[0]
            if resend_after is not None and time.monotonic() > sent + resend_after:
                self.writers[key].write(self.t.TriggerRequest())
                sent = time.monotonic()
            time.sleep(0.01)
        raise TimeoutError(f"no reply from {ros_service} within {timeout} s")

    def poll(self, reader: Any) -> list[Any]:
        """Everything received on `reader` so far (kept, in order; new samples are taken from DDS)."""
        log = self._received.setdefault(id(reader), [])
        log.extend(reader.take(N=10000))
        return log

    def mark(self, reader: Any) -> int:
        """Index to pass as `since` to wait_for: only samples after this moment count."""
        return len(self.poll(reader))

    def wait_for(self, reader: Any, predicate: Callable[[Any], bool], timeout: float, since: int = 0) -> Any:
        """The first sample received at index >= `since` that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            log = self.poll(reader)
            for sample in log[checked:]:
                if predicate(sample):
                    return sample
            checked = max(checked, len(log))
            if time.monotonic() > deadline:
                raise TimeoutError(f"no matching sample on {reader.topic.name} within {timeout} s")
            time.sleep(0.01)


def wait_until_loaded(client: WireClient, status_reader: Any, node: NodeProcess, timeout: float = 180.0) -> dict[str, str]:
    """Wait for a status whose state is past "loading" (the model and retargeter loaded, or failed)."""
    try:
        sample = client.wait_for(status_reader, lambda s: status_values(s).get("state") not in (None, "loading"), timeout)
    except TimeoutError:
        raise AssertionError(f"node did not finish loading in {timeout} s:\n{node.log()[-3000:]}") from None
    return status_values(sample)


class JointStateStream:
    """Publishes the robot's joint state at `rate_hz` from a thread, like a robot driver would."""

    def __init__(self, writer: Any, joint_names: list[str], positions: list[float], rate_hz: float = 50.0) -> None:
        from tests.motiongpt_node import dds_types as t

        self.t, self.writer, self.rate = t, writer, rate_hz
        self.joint_names, self.positions = list(joint_names), list(positions)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def message(self) -> Any:
        return self.t.JointState(name=list(self.joint_names), position=[float(p) for p in self.positions])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.writer.write(self.message())
            self._stop.wait(1.0 / self.rate)

    def start(self) -> "JointStateStream":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def status_values(sample: Any) -> dict[str, str]:
    return {kv.key: kv.value for kv in sample.status[0].values}


def temp_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="motiongpt_node_wire_"))


def cyclone_message(message: Any) -> Any:
    """The Cyclone sample equal to a rosbags message of the node's input types."""
    from tests.motiongpt_node import dds_types as t

    def header(h):
        return t.Header(stamp=t.Time(sec=int(h.stamp.sec), nanosec=int(h.stamp.nanosec)), frame_id=h.frame_id)

    kind = message.__msgtype__
    if kind == "std_msgs/msg/String":
        return t.String(data=message.data)
    if kind == "sensor_msgs/msg/JointState":
        return t.JointState(header=header(message.header), name=list(message.name),
                            position=[float(v) for v in message.position], velocity=[float(v) for v in message.velocity],
                            effort=[float(v) for v in message.effort])
    if kind == "geometry_msgs/msg/PoseArray":
        return t.PoseArray(header=header(message.header), poses=[
            t.Pose(position=t.Point(x=p.position.x, y=p.position.y, z=p.position.z),
                   orientation=t.Quaternion(x=p.orientation.x, y=p.orientation.y, z=p.orientation.z, w=p.orientation.w))
            for p in message.poses])
    raise ValueError(f"no Cyclone type for {kind}")


CYCLONE_TYPES = {"std_msgs/msg/String": "String", "sensor_msgs/msg/JointState": "JointState",
                 "geometry_msgs/msg/PoseArray": "PoseArray"}


def replay_bag(client: WireClient, messages: list[tuple[str, int, Any]], speed: float = 1.0) -> None:
    """Publish (topic, time_ns, rosbags message) on the wire with the recorded timing."""
    from tests.motiongpt_node import dds_types as t

    writers = {}
    for topic, _, message in messages:
        if topic not in writers:
            writers[topic] = client.writer(topic, getattr(t, CYCLONE_TYPES[message.__msgtype__]))
            client.wait_matched(writers[topic])
    first = messages[0][1]
    started = time.monotonic()
    for topic, stamp, message in messages:
        delay = started + (stamp - first) * 1e-9 / speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        writers[topic].write(cyclone_message(message))


def serve(harness):
    """Body of a module-scoped wire fixture: yields the harness, then stops its joint-state stream and its node
    and requires a clean exit."""
    yield harness
    harness.stream.stop()
    code = harness.node.stop()
    assert code == 0, f"node exited with {code}:\n{harness.node.log()[-3000:]}"


class CommandWire:
    """The node with a model (overrides on top of the command tests' parameters), a Cyclone client with the
    command and joint-state writers and the status and trajectory readers, and a joint-state stream of
    ``start`` (default: every joint at 0, inside the limits). Use with `serve`."""

    PARAMETERS = {"device": "cpu", "seed": 3, "status_period": 5.0, "max_duration": 5.0, "joint_state_timeout": 3.0,
                  "caption_generated": False}

    def __init__(self, model_folder, timeout: float = 60.0, start=None, **overrides) -> None:
        import numpy as np

        from motiongpt_node.joint_limits import JointLimits
        from tests.motiongpt_node import dds_types as t
        from tests.motiongpt_node.conftest import g1_urdf_path

        domain = isolate_environment()
        self.timeout = timeout
        self.limits = JointLimits.from_urdf(g1_urdf_path())
        zero = np.clip(np.zeros(len(self.limits.joint_names)), self.limits.lower, self.limits.upper)
        self.start = zero if start is None else np.asarray(start, dtype=float)
        self.node = NodeProcess({"model_path": str(model_folder), **self.PARAMETERS, **overrides}, temp_workdir())
        c = self.client = WireClient(domain)
        self.command = c.writer("/command", t.String)
        self.joint_states = c.writer("/joint_states", t.JointState)
        self.status = c.reader(f"{NODE}/status", t.DiagnosticArray)
        self.trajectory = c.reader("/joint_trajectory", t.JointTrajectory)
        for endpoint in (self.command, self.joint_states, self.status, self.trajectory):
            c.wait_matched(endpoint)
        self.stream = JointStateStream(self.joint_states, list(self.limits.joint_names), self.start.tolist()).start()
        self.loaded = wait_until_loaded(c, self.status, self.node)

    def status_after(self, since: int, fragment: str, timeout: float | None = None):
        try:
            return self.client.wait_for(self.status, lambda s: fragment in s.status[0].message,
                                        timeout or self.timeout, since)
        except TimeoutError:
            seen = [s.status[0].message for s in self.client.poll(self.status)[since:]][-10:]
            raise AssertionError(f"no status with {fragment!r}; got {seen}\n{self.node.log()[-3000:]}") from None
