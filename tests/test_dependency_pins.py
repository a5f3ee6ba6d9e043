"""Dependency pins: setup.py declares ranges (what the code supports on Python 3.10-3.13), constraints.txt pins the
exact tested set (Python 3.11, for `make` and CI). Offline and fast: reads setup.py with ast (setup() is not run),
constraints.txt as text and, for the last test, the installed distributions' metadata.

`python tests/test_dependency_pins.py > constraints.txt`, in the venv that `make setup` built, regenerates
constraints.txt: every distribution that setup.py's requirements (the extras `make` installs) pull in, directly
or transitively, at its installed version.
"""
import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
SETUP_PY = REPO / "setup.py"
CONSTRAINTS = REPO / "constraints.txt"
MAKE_EXTRAS = ("ros", "test", "onnx", "interfaces")  # the Makefile's `pip install -e '.[ros,test,onnx,interfaces]'`
NO_UPPER_BOUND_NEEDED = {"torch"}  # installed first by the Makefile, by exact version (CPU or CUDA build)
EXACT_PREFIX = "ros-jazzy-"  # the ros-jazzy-* wheels are one release set: exact pins
CONSTRAINTS_HEADER = """\
# The exact tested set of Python packages, for `make` and CI: Python 3.11 on Linux x86_64.
# setup.py declares version ranges (what the code supports on Python 3.10 to 3.13); this file pins one tested point
# inside them: every distribution that motiongpt_node[ros,test,onnx,interfaces] requires, directly or transitively,
# at the version installed in the venv that `make setup` built and the test suite runs in. The Makefile installs with
#     pip install -e '.[ros,test,onnx,interfaces]' -c constraints.txt
# Other Pythons (3.10, 3.12, 3.13) install without -c: pip then picks versions inside setup.py's ranges (several
# pins here have no wheels for Python 3.10, e.g. numpy 2.3.5 and scipy 1.16.3 need Python >= 3.11).
# torch is pinned without its local label (+cpu), so that the CPU and the CUDA builds of that release both match.
# Produced by (in the venv that `make setup` built; tests/test_dependency_pins.py checks it against setup.py):
#     .venv/bin/python tests/test_dependency_pins.py > constraints.txt
"""


def setup_requirements() -> dict[str, list[str]]:
    """setup.py's INSTALL_REQUIRES and EXTRAS_REQUIRE groups, read without running setup(): {"install": [...], extra: [...]}."""
    found = {}
    for node in ast.parse(SETUP_PY.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("INSTALL_REQUIRES", "EXTRAS_REQUIRE"):
                found[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(found) == {"INSTALL_REQUIRES", "EXTRAS_REQUIRE"}, "setup.py must define both as literals"
    return {"install": found["INSTALL_REQUIRES"], **found["EXTRAS_REQUIRE"]}


def all_requirements(groups=None) -> list[Requirement]:
    requirements = setup_requirements()
    names = requirements if groups is None else ["install", *groups]
    return [Requirement(line) for group in names for line in requirements[group]]


def read_constraints() -> dict[str, Version]:
    """constraints.txt as {canonical name: pinned version}; every entry must be `name==version`."""
    pins: dict[str, Version] = {}
    for number, raw in enumerate(CONSTRAINTS.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, \
            f"constraints.txt:{number}: not an exact pin: {raw!r}"
        assert not requirement.extras and requirement.marker is None, f"constraints.txt:{number}: {raw!r}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"constraints.txt:{number}: {name} pinned twice"
        pins[name] = Version(specs[0].version)
    return pins


def test_setup_py_requirements_are_ranges_with_an_upper_bound():
    for requirement in all_requirements():
        specs = list(requirement.specifier)
        operators = {spec.operator for spec in specs}
        if requirement.name.startswith(EXACT_PREFIX):
            assert operators == {"=="}, f"{requirement}: the ros-jazzy-* wheels are one release set, pinned exactly"
            continue
        assert "==" not in operators and "===" not in operators, f"{requirement}: a range, not an exact pin"
        assert ">=" in operators, f"{requirement}: needs a (tested) lower bound"
        if canonicalize_name(requirement.name) not in NO_UPPER_BOUND_NEEDED:
            assert "<" in operators, f"{requirement}: needs an upper bound (the next major, or minor for 0.x)"


def test_a_package_named_in_several_groups_has_the_same_range_everywhere():
    seen: dict[str, str] = {}
    for requirement in all_requirements():
        name = canonicalize_name(requirement.name)
        assert seen.setdefault(name, str(requirement.specifier)) == str(requirement.specifier), name


def test_constraints_pin_every_setup_py_requirement_inside_its_range():
    pins = read_constraints()
    for requirement in all_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {name} (setup.py: {requirement})"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside setup.py's {requirement}"


def test_python_versions_promised_by_the_readme():
    assert 'python_requires=">=3.10"' in SETUP_PY.read_text()


def installed_closure(groups=MAKE_EXTRAS) -> dict[str, Version]:
    """{canonical name: installed version (local label dropped)} of every distribution that setup.py's requirements
    (with `groups`) pull in, directly or transitively, in this environment; raises KeyError naming a missing one."""
    installed: dict[str, importlib.metadata.Distribution] = {}
    for distribution in importlib.metadata.distributions():  # in sys.path order: the first one is the one imported
        # (setuptools appends its _vendor folder, with older packaging and typing_extensions, to sys.path)
        installed.setdefault(canonicalize_name(distribution.metadata["Name"]), distribution)
    closure: dict[str, Version] = {}
    visited = set()
    stack = [(requirement, "") for requirement in all_requirements(groups)]
    while stack:
        requirement, parent = stack.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in visited:
            continue
        visited.add(key)
        if name not in installed:
            raise KeyError(f"{name} (required by {parent or 'setup.py'}) is not installed")
        distribution = installed[name]
        closure[name] = Version(Version(distribution.version).public)
        for line in distribution.requires or []:
            child = Requirement(line)
            extras = requirement.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in extras):
                stack.append((child, name))
    return closure


def test_constraints_pin_the_installed_set_in_the_make_venv():
    """In the venv that `make setup` built (.venv, Python 3.11), constraints.txt pins what is installed: a dependency
    added to setup.py, or a different version installed there, shows up here. Other environments may hold any
    versions inside setup.py's ranges."""
    import pytest

    if Path(sys.prefix).resolve() != (REPO / ".venv").resolve() or sys.version_info[:2] != (3, 11):
        pytest.skip("not the Python 3.11 venv that `make setup` builds (.venv), for which constraints.txt is the tested set")
    try:
        closure = installed_closure()
    except KeyError as missing:  # in .venv everything setup.py asks for is installed by `make setup`
        pytest.fail(f"{missing}: .venv is not what `make setup` builds (rerun it)")
    pins = read_constraints()
    differ = {name: (str(version), str(pins.get(name))) for name, version in closure.items() if pins.get(name) != version}
    assert not differ, ("installed version != constraints.txt (regenerate it: python tests/test_dependency_pins.py "
                        f"> constraints.txt): {differ}")


def main() -> int:
    closure = installed_closure()
    lines = [f"{name}=={version}" for name, version in sorted(closure.items())]
    gpu = [canonicalize_name(r.name) for r in all_requirements(["gpu"]) if canonicalize_name(r.name) not in closure]
    if gpu == ["onnxruntime-gpu"] and "onnxruntime" in closure:
        lines.append("# the \"gpu\" extra (not installed with the CPU build): the onnxruntime release it replaces")
        lines.append(f"onnxruntime-gpu=={closure['onnxruntime']}")
    elif gpu:
        raise SystemExit(f"not installed, pin by hand: {gpu}")
    sys.stdout.write(CONSTRAINTS_HEADER + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
