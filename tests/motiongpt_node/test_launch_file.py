"""Static checks of launch/motiongpt.launch.py: `launch` and `launch_ros` are not installable here
(no PyPI wheels), so the file is parsed, not run. Checked: it compiles; it imports only APIs present in
both Humble and Jazzy; it names the package, executable, node and parameter file that this repository
really builds and installs; the optional rviz2 node (rviz:=true) and its config/motiongpt.rviz.
"""
import ast
import configparser
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH_FILE = REPO / "launch" / "motiongpt.launch.py"

# Module -> names this launch file may import: each exists in ROS 2 Humble and Jazzy.
PORTABLE_IMPORTS = {
    "os": {"path"},
    "ament_index_python.packages": {"get_package_share_directory"},
    "launch": {"LaunchDescription"},
    "launch.actions": {"DeclareLaunchArgument"},
    "launch.conditions": {"IfCondition"},
    "launch.substitutions": {"LaunchConfiguration"},
    "launch_ros.actions": {"Node"},
    "launch_ros.parameter_descriptions": {"ParameterValue"},
}
# Keyword arguments of launch_ros.actions.Node (and ExecuteProcess, which it forwards to) in both releases.
NODE_KEYWORDS = {"package", "executable", "name", "namespace", "parameters", "remappings", "arguments",
                 "output", "emulate_tty", "respawn", "respawn_delay", "ros_arguments", "exec_name", "condition"}


def node_calls():
    return [n for n in ast.walk(tree()) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Node"]


def node_keywords(package):
    calls = [c for c in node_calls() if any(k.arg == "package" and getattr(k.value, "id", None) == package
                                             or k.arg == "package" and isinstance(k.value, ast.Constant)
                                             and k.value.value == package for k in c.keywords)]
    assert len(calls) == 1, package
    return {k.arg: k.value for k in calls[0].keywords}


def tree():
    return ast.parse(LAUNCH_FILE.read_text(), filename=str(LAUNCH_FILE))


def constants():
    values = {}
    for node in tree().body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Call, ast.List)):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                if isinstance(node.value, ast.Call):  # os.path.join("config", "x.yaml")
                    values[node.targets[0].id] = "/".join(ast.literal_eval(a) for a in node.value.args)
    return values


def test_launch_file_compiles_and_defines_generate_launch_description():
    compile(LAUNCH_FILE.read_text(), str(LAUNCH_FILE), "exec")
    functions = [n.name for n in tree().body if isinstance(n, ast.FunctionDef)]
    assert "generate_launch_description" in functions


def test_imports_are_portable_between_humble_and_jazzy():
    for node in ast.walk(tree()):
        if isinstance(node, ast.ImportFrom):
            assert node.module in PORTABLE_IMPORTS, node.module
            names = {alias.name for alias in node.names}
            assert names <= PORTABLE_IMPORTS[node.module], (node.module, names)
        elif isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= {"os"}


def test_node_action_names_what_the_package_installs():
    values = constants()
    package_xml = ET.parse(REPO / "package.xml").getroot()
    assert values["PACKAGE"] == package_xml.findtext("name") == "motiongpt_node"
    assert package_xml.find("export/build_type").text == "ament_python"
    assert {"launch", "launch_ros"} <= {e.text for e in package_xml.findall("exec_depend")}
    setup_py = (REPO / "setup.py").read_text()
    assert re.search(rf'"{values["EXECUTABLE"]} = motiongpt_node\.main:main"', setup_py)
    # ros2 run / launch_ros look for executables in lib/<package>: setup.cfg must put them there.
    setup_cfg = configparser.ConfigParser()
    setup_cfg.read(REPO / "setup.cfg")
    assert setup_cfg["install"]["install_scripts"] == f"$base/lib/{values['PACKAGE']}"
    assert setup_cfg["develop"]["script_dir"] == f"$base/lib/{values['PACKAGE']}"
    # The parameter file exists, is installed by data_files (config/*.yaml) and is keyed by the node name.
    params = REPO / values["PARAMS_FILE"]
    assert params.is_file() and values["PARAMS_FILE"].startswith("config/")
    # config/ and launch/ are installed whole (every file is checked in test_install.py).
    assert '"config": "config"' in setup_py and '"launch": "launch"' in setup_py
    assert len(node_calls()) == 2  # the node and the optional rviz2
    keywords = node_keywords("PACKAGE")
    assert set(keywords) <= NODE_KEYWORDS and "condition" not in keywords  # the node always starts
    assert ast.literal_eval(keywords["name"]) == "motiongpt_node"
    assert "/**" in yaml.safe_load(params.read_text())
    assert {"package", "executable", "parameters"} <= set(keywords)


def test_every_declared_argument_is_used():
    source = LAUNCH_FILE.read_text()
    declared = re.findall(r'DeclareLaunchArgument\(\s*"(\w+)"', source)
    assert declared == ["namespace", "robot", "model", "params_file", "use_sim_time", "log_level", "rviz"]
    for name in declared:
        assert f'LaunchConfiguration("{name}")' in source


def test_remappings_name_the_nodes_relative_topics():
    from motiongpt_node.node_config import SPECS

    remappings = dict(constants()["REMAPPINGS"])
    assert set(remappings) == {SPECS["trajectory_topic"].default, SPECS["action_name"].default}
    for source, target in remappings.items():
        assert not source.startswith(("/", "~")) and not target.startswith(("/", "~")), (source, target)
        assert target.startswith("joint_trajectory_controller/")
    assert 'remappings=REMAPPINGS' in LAUNCH_FILE.read_text()
    # The parameter file applies under any namespace and node name.
    assert list(yaml.safe_load((REPO / "config" / "motiongpt_node.yaml").read_text())) == ["/**"]


def test_rviz_argument_starts_rviz2_only_when_true():
    source = LAUNCH_FILE.read_text()
    assert re.search(r'DeclareLaunchArgument\(\s*"rviz", default_value="false"', source)
    keywords = node_keywords("rviz2")
    assert set(keywords) <= NODE_KEYWORDS
    assert ast.literal_eval(keywords["executable"]) == "rviz2"
    condition = keywords["condition"]
    assert isinstance(condition, ast.Call) and condition.func.id == "IfCondition"
    assert ast.unparse(condition.args[0]) == 'LaunchConfiguration(\'rviz\')'
    # Same namespace as the node: the config's relative topics then name the node's ~/ topics.
    assert ast.unparse(keywords["namespace"]) == ast.unparse(node_keywords("PACKAGE")["namespace"])
    assert ast.unparse(keywords["arguments"]) == "['-d', os.path.join(share, RVIZ_CONFIG)]"


def test_rviz_config_exists_is_valid_yaml_and_shows_the_node_outputs():
    from motiongpt_node.node_config import SPECS

    rviz_config = constants()["RVIZ_CONFIG"]
    path = REPO / rviz_config
    assert rviz_config.startswith("config/") and path.is_file()  # config/ is installed whole
    manager = yaml.safe_load(path.read_text())["Visualization Manager"]
    assert manager["Global Options"]["Fixed Frame"] == SPECS["world_frame"].default
    topics = {d["Class"]: d.get("Topic", d.get("Description Topic", {})).get("Value")
              for d in manager["Displays"]}
    node = constants()["PACKAGE"]  # the node's name (name="motiongpt_node")
    for spec, display in (("skeleton_topic", "rviz_default_plugins/MarkerArray"),
                          ("base_path_topic", "rviz_default_plugins/Path")):
        assert SPECS[spec].default.startswith("~/")
        assert topics[display] == node + "/" + SPECS[spec].default[2:]
    assert topics["rviz_default_plugins/RobotModel"] == "robot_description"
