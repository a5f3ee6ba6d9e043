"""Static checks of launch/motiongpt.launch.py: `launch` and `launch_ros` are not installable here
(no PyPI wheels), so the file is parsed, not run. Checked: it compiles; it imports only APIs present in
both Humble and Jazzy; it names the package, executable, node and parameter file that this repository
really builds and installs.
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
    "launch.substitutions": {"LaunchConfiguration"},
    "launch_ros.actions": {"Node"},
    "launch_ros.parameter_descriptions": {"ParameterValue"},
}
# Keyword arguments of launch_ros.actions.Node (and ExecuteProcess, which it forwards to) in both releases.
NODE_KEYWORDS = {"package", "executable", "name", "namespace", "parameters", "remappings", "arguments",
                 "output", "emulate_tty", "respawn", "respawn_delay", "ros_arguments", "exec_name"}


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
    node_calls = [n for n in ast.walk(tree()) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Node"]
    assert len(node_calls) == 1
    keywords = {k.arg: k.value for k in node_calls[0].keywords}
    assert set(keywords) <= NODE_KEYWORDS
    assert ast.literal_eval(keywords["name"]) == "motiongpt_node"
    assert "/**" in yaml.safe_load(params.read_text())
    assert {"package", "executable", "parameters"} <= set(keywords)


def test_every_declared_argument_is_used():
    source = LAUNCH_FILE.read_text()
    declared = re.findall(r'DeclareLaunchArgument\(\s*"(\w+)"', source)
    assert declared == ["namespace", "robot", "model", "params_file", "use_sim_time", "log_level"]
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
