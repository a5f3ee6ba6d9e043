"""The parameter table, the YAML file shipped in config/, and their agreement."""
from pathlib import Path

import pytest
import yaml

from motiongpt_node.node_config import PARAMETERS, SPECS, ConfigError, NodeConfig

YAML_FILE = Path(__file__).resolve().parents[2] / "config" / "motiongpt_node.yaml"


def test_shipped_yaml_sets_every_parameter_to_a_valid_value():
    values = yaml.safe_load(YAML_FILE.read_text())["/**"]["ros__parameters"]
    assert list(values) == [spec.name for spec in PARAMETERS]
    config = NodeConfig.from_yaml(YAML_FILE)
    assert config.device in ("auto", "cpu", "cuda")
    for spec in PARAMETERS:
        assert type(values[spec.name]) is type(spec.default), spec.name  # ROS parameter types are strict


def test_topic_names_are_relative_and_outputs_private():
    for spec in PARAMETERS:
        if (spec.name.endswith("_topic") or spec.name == "action_name") and spec.name != "diagnostics_topic":
            assert not spec.default.startswith("/"), spec.name
    assert SPECS["diagnostics_topic"].default == "/diagnostics"  # the one absolute name, by ROS convention
    assert {s.default for s in PARAMETERS if s.default in ("command", "joint_states", "human_pose", "joint_trajectory")} \
        == {"command", "joint_states", "human_pose", "joint_trajectory"}
    assert all(SPECS[f"{name}_topic"].default == f"~/{name}" for name in ("base_path", "description", "skeleton", "status"))


def test_integers_are_accepted_for_doubles_and_only_run_time_parameters_are_dynamic():
    assert NodeConfig.from_values({"max_duration": 5}).max_duration == 5.0
    assert type(NodeConfig.from_values({"max_duration": 5}).max_duration) is float
    startup_only = {"model_path", "device", "backend", "cpu_threads", "robot", "urdf_path", "use_action", "action_name",
                    "max_pending", "pose_history", "prediction_enabled", "prediction_period", "status_period", "record_bag",
                    "service_queue_depth", "stay_up_on_error"}
    for spec in PARAMETERS:
        if spec.name in startup_only or spec.name.endswith("_topic"):
            assert not spec.dynamic, spec.name
        else:
            assert spec.dynamic, spec.name


def test_namespaced_and_node_keyed_parameter_files_are_read(tmp_path):
    for key in ("/**", "motiongpt_node", "/motiongpt_node"):
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump({key: {"ros__parameters": {"max_duration": 7}}}))
        assert NodeConfig.from_yaml(path).max_duration == 7.0


def test_every_parameter_is_described_and_numbers_have_ranges():
    for spec in PARAMETERS:
        assert len(spec.description) > 10, spec.name
        if isinstance(spec.default, (int, float)) and not isinstance(spec.default, bool):
            assert spec.low is not None and spec.low <= spec.default <= spec.high, spec.name


@pytest.mark.parametrize(
    "values, fragment",
    [({"device": "tpu"}, "one of"), ({"max_duration": 0.1}, "outside"), ({"max_duration": "long"}, "must be float"),
     ({"max_pending": 1.5}, "must be int"), ({"bogus": 1}, "unknown parameters"), ({"max_duration": float("nan")}, "outside"),
     ({"guidance": 0.5}, "guidance must be 0"), ({"guidance": 11.0}, "outside")],
)
def test_bad_values_are_refused(values, fragment):
    with pytest.raises(ConfigError, match=fragment):
        NodeConfig.from_values(values)


def test_missing_or_malformed_parameter_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        NodeConfig.from_yaml(tmp_path / "none.yaml")
    other = tmp_path / "other.yaml"
    other.write_text("some_node:\n  ros__parameters: {}\n")
    with pytest.raises(ConfigError, match="no /\\*\\*: \\(or motiongpt_node:\\) ros__parameters"):
        NodeConfig.from_yaml(other)
