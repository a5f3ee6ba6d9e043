"""Message conversions (real rclpy message classes) and the mcap recorder, without a wire."""
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from std_msgs.msg import String

from motiongpt_node import ros_messages
from motiongpt_node.bag_recorder import BagError, BagRecorder, read_bag
from motiongpt_node.trajectory_contract import JointTrajectoryData


def test_trajectory_round_trip_keeps_times_to_the_nanosecond():
    times = np.array([0.0, 0.05, 1.123456789, 2.5])
    positions = np.arange(8, dtype=float).reshape(4, 2)
    message = ros_messages.trajectory_msg(JointTrajectoryData(("a", "b"), times, positions, np.zeros((4, 2))))
    assert message.header.stamp.sec == 0 and message.points[2].time_from_start.sec == 1
    assert message.points[2].time_from_start.nanosec == 123456789
    back = ros_messages.trajectory_from_msg(message)
    np.testing.assert_allclose(back.times, times, atol=1e-9)
    np.testing.assert_array_equal(back.positions, positions)


def test_base_path_stamps_and_skeleton_markers():
    stamp = Time(sec=10, nanosec=900_000_000)
    path = ros_messages.base_path_msg(np.array([0.0, 0.25]), np.array([[0, 0, 0.7], [0.1, 0, 0.7]]),
                                      np.array([[0, 0, 0, 1.0], [0, 0, 0, 1.0]]), "world", stamp)
    assert [(p.header.stamp.sec, p.header.stamp.nanosec) for p in path.poses] == [(10, 900_000_000), (11, 150_000_000)]
    joints = np.zeros((41, 22, 3))
    joints[:, 15, 1] = 1.6  # head 1.6 m up in Y
    markers = ros_messages.skeleton_markers(joints, "world", stamp)
    assert markers.markers[0].action == markers.markers[0].DELETEALL
    assert len(markers.markers) == 1 + 5  # frames 0, 10, 20, 30, 40 at 0.5 s
    head = [p for p in markers.markers[1].points if p.z > 1.5]
    assert head, "Y-up head must become Z-up"


def test_status_levels_and_values():
    status = ros_messages.status_msg(Time(), "motiongpt_node", "warn", "x" * 2000, {"dropped": 3})
    assert status.status[0].level == status.status[0].WARN
    assert len(status.status[0].message) == 1000
    assert [(kv.key, kv.value) for kv in status.status[0].values] == [("dropped", "3")]


def test_recorder_writes_a_readable_mcap_bag(tmp_path):
    folder = tmp_path / "bag"
    recorder = BagRecorder(folder)
    recorder.write("/c", String(data="wave"), 5)
    message = ros_messages.trajectory_msg(JointTrajectoryData(("a",), np.array([0.0, 1.0]), np.zeros((2, 1)), None))
    recorder.write("/t", message, 6)
    recorder.close()
    assert (folder / "bag.mcap").is_file()
    [(topic1, stamp1, command), (topic2, _, trajectory)] = read_bag(folder)
    assert (topic1, stamp1, command.data) == ("/c", 5, "wave")
    assert topic2 == "/t" and trajectory.points[1].time_from_start.sec == 1
    with pytest.raises(BagError, match="already exists"):
        BagRecorder(folder)
    with pytest.raises(BagError, match="not a rosbag2 folder"):
        read_bag(tmp_path)
    (folder / "bag.mcap").write_bytes(b"garbage")
    with pytest.raises(BagError, match="cannot read bag"):
        read_bag(folder)
