"""Static checks of ros2_ws/gazebo (Gazebo cannot be installed here): the generated URDF loads in
Pinocchio and carries a consistent ros2_control block; the controllers file names the same joints."""
import ast
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pinocchio as pin
import yaml

from motiongpt_node.joint_limits import JointLimits
from tests.motiongpt_node.conftest import g1_urdf_path

GAZEBO = Path(__file__).resolve().parents[2] / "ros2_ws" / "gazebo"


def load_tool():
    spec = importlib.util.spec_from_file_location("make_g1_gz_urdf", GAZEBO / "make_g1_gz_urdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_urdf_has_ros2_control_for_every_joint(tmp_path):
    out = tmp_path / "g1_gz.urdf"
    assert load_tool().main(["--out", str(out)]) == 0
    robot = ET.parse(out).getroot()
    joints = list(JointLimits.from_urdf(g1_urdf_path()).joint_names)
    control = robot.find("ros2_control")
    assert control.find("hardware/plugin").text == "gz_ros2_control/GazeboSimSystem"
    assert [j.get("name") for j in control.findall("joint")] == joints
    for joint in control.findall("joint"):
        assert [c.get("name") for c in joint.findall("command_interface")] == ["position"]
        assert [s.get("name") for s in joint.findall("state_interface")] == ["position", "velocity"]
    plugin = robot.find("gazebo/plugin")
    assert plugin.get("filename") == "gz_ros2_control-system"
    assert Path(plugin.find("parameters").text) == (GAZEBO / "g1_controllers.yaml").resolve()
    meshes = [m.get("filename") for m in robot.iter("mesh")]
    assert meshes and all(m.startswith("file:///") and Path(m[7:]).is_file() for m in meshes)
    anchor = [j for j in robot.iter("joint") if j.get("name") == "world_to_pelvis"][0]
    assert anchor.get("type") == "fixed" and anchor.find("child").get("link") == "pelvis"
    model = pin.buildModelFromUrdf(str(out))  # still a valid URDF for a real parser
    assert model.nq == len(joints)


def test_controllers_file_matches_the_robot():
    config = yaml.safe_load((GAZEBO / "g1_controllers.yaml").read_text())
    manager = config["controller_manager"]["ros__parameters"]
    assert manager["joint_trajectory_controller"]["type"] == "joint_trajectory_controller/JointTrajectoryController"
    assert manager["joint_state_broadcaster"]["type"] == "joint_state_broadcaster/JointStateBroadcaster"
    controller = config["joint_trajectory_controller"]["ros__parameters"]
    assert controller["joints"] == list(JointLimits.from_urdf(g1_urdf_path()).joint_names)
    assert controller["command_interfaces"] == ["position"]


def test_gazebo_launch_file_compiles_and_names_real_files():
    source = (GAZEBO / "g1_gazebo.launch.py").read_text()
    tree = ast.parse(source)
    assert "generate_launch_description" in [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert '"g1_controllers.yaml"' in source and (GAZEBO / "g1_controllers.yaml").is_file()
    # The URDF is generated at install time (setup.py), not by the launch: `ros2 launch` runs the system
    # Python, which lacks example-robot-data.
    assert '"g1_gz.urdf"' in source and 'get_package_share_directory(PACKAGE)' in source
    assert "subprocess" not in source and "sys.executable" not in source
    imported = {alias.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for alias in n.names}
    assert not imported & {"subprocess", "sys", "example_robot_data", "pinocchio"}
    setup_py = (GAZEBO.parents[1] / "setup.py").read_text()
    assert '"ros2_ws/gazebo": "gazebo"' in setup_py and 'GAZEBO_URDF = "g1_gz.urdf"' in setup_py
    assert '"motiongpt.launch.py"' in source
    for executable in ('"robot_state_publisher"', '"create"', '"parameter_bridge"', '"spawner"'):
        assert executable in source
