from dataclasses import dataclass

import pytest

from motiongpt.config_files import build_dataclass, read_yaml


class ExampleError(ValueError):
    pass


@dataclass(frozen=True)
class Example:
    steps: int = 1

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")


def test_read_yaml_names_missing_and_invalid_files(tmp_path):
    with pytest.raises(ExampleError, match=r"absent.yaml: training config not found"):
        read_yaml(tmp_path / "absent.yaml", ExampleError, what="training config")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ExampleError, match=r"bad.yaml: not valid YAML"):
        read_yaml(tmp_path / "bad.yaml", ExampleError)
    (tmp_path / "good.yaml").write_text("steps: 3\n")
    assert read_yaml(tmp_path / "good.yaml", ExampleError) == {"steps": 3}


def test_build_dataclass_refuses_unknown_keys_non_mappings_and_invalid_values():
    assert build_dataclass(Example, {"steps": 4}, "cfg.yaml", ExampleError) == Example(steps=4)
    with pytest.raises(ExampleError, match=r"cfg.yaml: unknown settings \['stepz'\]; known: \['steps'\]"):
        build_dataclass(Example, {"stepz": 4}, "cfg.yaml", ExampleError)
    with pytest.raises(ExampleError, match=r"cfg.yaml: expected a mapping of settings, got list"):
        build_dataclass(Example, [1], "cfg.yaml", ExampleError)
    with pytest.raises(ExampleError, match=r"cfg.yaml: steps must be >= 1, got 0"):
        build_dataclass(Example, {"steps": 0}, "cfg.yaml", ExampleError)
