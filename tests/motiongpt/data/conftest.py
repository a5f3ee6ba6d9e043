"""Fixtures of the data tests: an embedded dataset built with three of the Bandai Namco fixture takes."""
from __future__ import annotations

from pathlib import Path

import pytest

from motiongpt.data.embedded import build_embedded

FIXTURES = Path(__file__).parent / "fixtures" / "bandai"
# The takes the dataset is built from (the fixture folder holds more, for the retargeting tests).
DATASET_TAKES = ("dataset-1_bow_masculinity_001.bvh", "dataset-2_walk_active_013.bvh",
                 "dataset-2_wave-right-hand_active_023.bvh")


def bandai_tree(root: Path) -> Path:
    """A copy of the repository's layout (Bandai-Namco-Research-Motiondataset-N/data/) holding DATASET_TAKES."""
    for path in (FIXTURES / name for name in DATASET_TAKES):
        folder = root / f"Bandai-Namco-Research-Motiondataset-{path.name[8]}" / "data"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / path.name).symlink_to(path.resolve())
    return root


@pytest.fixture(scope="session")
def bandai_built(tmp_path_factory):
    """(out, summary, tree): the embedded dataset built from the DeepMimic clips and the tree of DATASET_TAKES."""
    tree = bandai_tree(tmp_path_factory.mktemp("bandai"))
    out = tmp_path_factory.mktemp("embedded") / "out"
    return out, build_embedded(out, bandai=tree), tree
