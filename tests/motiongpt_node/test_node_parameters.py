"""ROS conventions of the real rclpy node, in-process: relative topic names under a namespace and remapped as
the launch file does, run-time parameter changes validated by the on-set-parameters callback, integers for
doubles. The model is never loaded (model_path points nowhere: with stay_up_on_error the node reports it and
stays up)."""
import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.parameter import Parameter  # noqa: E402

from motiongpt_node.node import MotionGPTNode  # noqa: E402
from tests.motiongpt_node.wire import isolate_environment  # noqa: E402

LAUNCH_REMAPS = ["-r", "joint_trajectory:=joint_trajectory_controller/joint_trajectory",
                 "-r", "follow_joint_trajectory:=joint_trajectory_controller/follow_joint_trajectory"]


@pytest.fixture
def make_node(tmp_path):
    nodes = []

    def make(*ros_args: str) -> MotionGPTNode:
        isolate_environment()
        rclpy.init(args=["motiongpt_node", "--ros-args", "-p", f"model_path:={tmp_path / 'no_model'}",
                         "-p", "use_action:=false", "-p", "stay_up_on_error:=true", *ros_args])
        node = MotionGPTNode()
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.close()
        node.destroy_node()
    rclpy.try_shutdown()


def test_topics_are_relative_namespaced_and_remappable(make_node):
    node = make_node("-r", "__ns:=/robot1", *LAUNCH_REMAPS)
    assert node.topic["command"] == "/robot1/command"
    assert node.topic["joint_states"] == "/robot1/joint_states"
    assert node.topic["human_pose"] == "/robot1/human_pose"
    assert node.topic["trajectory"] == "/robot1/joint_trajectory_controller/joint_trajectory"
    assert node.topic["status"] == "/robot1/motiongpt_node/status"  # node-specific outputs stay private
    assert node.topic["description"] == "/robot1/motiongpt_node/description"


def test_default_names_without_namespace(make_node):
    node = make_node()
    assert node.topic["command"] == "/command" and node.topic["trajectory"] == "/joint_trajectory"
    assert node.topic["joint_states"] == "/joint_states" and node.topic["status"] == "/motiongpt_node/status"


def test_integers_are_accepted_for_doubles_at_startup(make_node):
    node = make_node("-p", "max_duration:=5", "-p", "velocity_scale:=1")
    assert node.config.max_duration == 5.0 and type(node.config.max_duration) is float
    assert node.shaping.max_duration == 5.0 and node.config.velocity_scale == 1.0


def test_run_time_parameters_change_with_validation(make_node):
    node = make_node()
    [result] = node.set_parameters([Parameter("max_duration", Parameter.Type.INTEGER, 7)])
    assert result.successful, result.reason
    assert node.config.max_duration == 7.0 and node.shaping.max_duration == 7.0

    [result] = node.set_parameters([Parameter("max_duration", Parameter.Type.DOUBLE, 500.0)])
    assert not result.successful and "max_duration" in result.reason
    [result] = node.set_parameters([Parameter("max_duration", Parameter.Type.STRING, "long")])
    assert not result.successful and "must be float" in result.reason
    [result] = node.set_parameters([Parameter("device", Parameter.Type.STRING, "tpu")])
    assert not result.successful
    assert node.config.max_duration == 7.0 and node.config.device == "auto"  # refused values change nothing

    before = node.limits.velocity.max()
    [result] = node.set_parameters([Parameter("max_joint_velocity", Parameter.Type.DOUBLE, 1.5)])
    assert result.successful, result.reason
    assert before > 1.5 and node.limits.velocity.max() == pytest.approx(1.5)

    # the robot config's acceleration cap (the G1's 120 rad/s^2), lowered at run time, and back
    assert node.limits.acceleration.max() == pytest.approx(120.0)
    [result] = node.set_parameters([Parameter("max_joint_acceleration", Parameter.Type.DOUBLE, 40.0)])
    assert result.successful, result.reason
    assert node.limits.acceleration.max() == pytest.approx(40.0)
    assert node.limits.velocity.max() == pytest.approx(1.5)  # the velocity cap stays
    [result] = node.set_parameters([Parameter("max_joint_acceleration", Parameter.Type.DOUBLE, 0.0)])
    assert result.successful, result.reason
    assert node.limits.acceleration.max() == pytest.approx(120.0)

    assert node.config.keep_time  # retargeted within the published limits (the wire test measures the time kept)
    [result] = node.set_parameters([Parameter("keep_time", Parameter.Type.BOOL, False)])
    assert result.successful, result.reason
    assert node.config.keep_time is False

    [result] = node.set_parameters([Parameter("model_path", Parameter.Type.STRING, "/elsewhere")])
    assert not result.successful and "read-only" in result.reason
    [result] = node.set_parameters([Parameter("command_topic", Parameter.Type.STRING, "other")])
    assert not result.successful


def test_descriptors_say_what_is_dynamic(make_node):
    node = make_node()
    assert node.describe_parameter("max_duration").read_only is False
    assert node.describe_parameter("max_duration").dynamic_typing is True
    assert node.describe_parameter("model_path").read_only is True
    assert node.describe_parameter("max_pending").read_only is True
