"""What a command means, before anything is generated: the nearest known action, and whether it is known at all.

The model can only do what its training captions describe. Each step of a command is embedded with the
model's frozen sentence encoder (all-MiniLM-L6-v2, the one its text conditioning uses) and compared with the
training captions of every action (cosine similarity, the largest per action). The best action is the step's
*meaning*; its similarity says how close the request is to anything the model was taught. A request below
``threshold`` (chosen on the val split, see :func:`choose_threshold`) is out of vocabulary: the ROS node
refuses it instead of executing the nearest motion, and checks the meaning against its allow-list.

The index is ``meaning_index.npz`` in the model folder: the caption texts and their unit vectors (float16),
their action ids, the action names, the threshold and the name of the sentence encoder that made the vectors,
built by ``motiongpt export meaning-index``. The text-to-motion caption grounding
(`motiongpt.lm.text_grounding`, ``captions: meaning_index.npz``) reads its neighbour captions from the same
file, so the captions are embedded once, at export, not at every load.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

INDEX_FILE = "meaning_index.npz"


class MeaningIndexError(ValueError):
    """The meaning index is missing, unreadable or does not fit the sentence encoder."""


@dataclass(frozen=True)
class Meaning:
    text: str
    action: str  # the nearest known action
    similarity: float  # cosine similarity to that action's nearest training caption, in [-1, 1]
    known: bool  # similarity >= the index threshold


@dataclass(frozen=True)
class MeaningIndex:
    actions: tuple[str, ...]
    action_ids: np.ndarray  # (N,) int, one per caption vector
    vectors: np.ndarray  # (N, D) float32 unit vectors
    threshold: float
    encoder: str  # the sentence encoder of the vectors (a packaged name or a folder)
    captions: tuple[str, ...] = ()  # the caption of each vector

    @classmethod
    def build(cls, captions_by_action: Mapping[str, Sequence[str]], encode, encoder: str, threshold: float = 0.0,
              per_action: int | None = None) -> "MeaningIndex":
        """``encode``: list of sentences -> (N, D) unit vectors. ``per_action``: keep at most this many
        distinct captions per action (evenly spaced over their sorted list: deterministic)."""
        actions = tuple(sorted(a for a, captions in captions_by_action.items() if captions))
        if not actions:
            raise MeaningIndexError("no captions to index")
        texts, ids = [], []
        for index, action in enumerate(actions):
            distinct = sorted(set(captions_by_action[action]))
            if per_action and len(distinct) > per_action:  # evenly spaced over the sorted captions
                distinct = [distinct[i] for i in np.linspace(0, len(distinct) - 1, per_action).round().astype(int)]
            texts += distinct
            ids += [index] * len(distinct)
        vectors = np.asarray(encode(texts), dtype=np.float32)
        return cls(actions, np.asarray(ids, dtype=np.int32), vectors, float(threshold), str(encoder), tuple(texts))

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """(Q, A): for each query vector, its largest cosine similarity to each action's captions."""
        scores = np.asarray(query, dtype=np.float32) @ self.vectors.T  # (Q, N)
        best = np.full((scores.shape[0], len(self.actions)), -1.0, dtype=np.float32)
        np.maximum.at(best.T, self.action_ids, scores.T)
        return best

    def match(self, texts: Sequence[str], query: np.ndarray) -> list[Meaning]:
        best = self.similarities(query)
        meanings = []
        for text, row in zip(texts, best):
            k = int(row.argmax())
            meanings.append(Meaning(text, self.actions[k], float(row[k]), bool(row[k] >= self.threshold)))
        return meanings

    def with_threshold(self, threshold: float) -> "MeaningIndex":
        return MeaningIndex(self.actions, self.action_ids, self.vectors, float(threshold), self.encoder, self.captions)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / INDEX_FILE
        np.savez_compressed(path, actions=np.array(self.actions), action_ids=self.action_ids,
                            vectors=self.vectors.astype(np.float16), threshold=np.float64(self.threshold),
                            encoder=np.array(self.encoder), captions=np.array(self.captions, dtype=str))
        return path

    @classmethod
    def load(cls, folder: str | Path, dim: int | None = None) -> "MeaningIndex | None":
        """The index in ``folder`` (or the ``.npz`` file itself), or None when there is none (models exported
        before it)."""
        path = Path(folder) if str(folder).endswith(".npz") else Path(folder) / INDEX_FILE
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                index = cls(tuple(str(a) for a in data["actions"]), data["action_ids"].astype(np.int32),
                            data["vectors"].astype(np.float32), float(data["threshold"]), str(data["encoder"]),
                            tuple(str(c) for c in data["captions"]) if "captions" in data else ())
        except Exception as error:  # zip, key and dtype errors alike
            raise MeaningIndexError(f"{path}: unreadable meaning index: {error}") from error
        if index.captions and len(index.captions) != len(index.vectors):
            raise MeaningIndexError(f"{path}: {len(index.captions)} captions for {len(index.vectors)} vectors")
        if index.vectors.ndim != 2 or len(index.action_ids) != len(index.vectors) or (
                len(index.action_ids) and int(index.action_ids.max()) >= len(index.actions)):
            raise MeaningIndexError(f"{path}: inconsistent meaning index (vectors {index.vectors.shape}, "
                                    f"{len(index.action_ids)} ids, {len(index.actions)} actions)")
        if dim is not None and index.vectors.shape[1] != dim:
            raise MeaningIndexError(f"{path}: vectors of size {index.vectors.shape[1]}, the sentence encoder gives {dim}")
        return index


def choose_threshold(known: np.ndarray, unknown: np.ndarray) -> float:
    """The similarity threshold that best separates requests the model knows (``known``: best-action
    similarities of unseen phrasings of its actions) from requests it does not (``unknown``): the midpoint
    between neighbouring sorted scores that maximises balanced accuracy, ties broken towards accepting."""
    known, unknown = np.sort(np.asarray(known, float)), np.sort(np.asarray(unknown, float))
    if not known.size or not unknown.size:
        raise MeaningIndexError("choosing a threshold needs both known and unknown requests")
    values = np.unique(np.concatenate([known, unknown]))
    candidates = np.concatenate([[values[0] - 1e-6], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-6]])
    accept = 1.0 - np.searchsorted(known, candidates, side="left") / known.size
    reject = np.searchsorted(unknown, candidates, side="left") / unknown.size
    balanced = (accept + reject) / 2
    best = np.flatnonzero(balanced >= balanced.max() - 1e-12)
    return float(candidates[best[0]])


def separation(known: np.ndarray, unknown: np.ndarray, threshold: float) -> dict[str, float]:
    """Share of known requests accepted and of unknown requests refused at ``threshold``."""
    known, unknown = np.asarray(known, float), np.asarray(unknown, float)
    return {"known_accepted": float((known >= threshold).mean()) if known.size else float("nan"),
            "unknown_refused": float((unknown < threshold).mean()) if unknown.size else float("nan"),
            "known": int(known.size), "unknown": int(unknown.size)}


OUT_OF_VOCABULARY_FILE = Path(__file__).with_name("out_of_vocabulary_requests.yaml")


def out_of_vocabulary_requests(split: str) -> list[str]:
    import yaml

    requests = yaml.safe_load(OUT_OF_VOCABULARY_FILE.read_text()) or {}
    if split not in requests:
        raise MeaningIndexError(f"{OUT_OF_VOCABULARY_FILE}: no {split!r} list")
    return [str(text) for text in requests[split]]


def captions_by_action(data_root: str | Path, split: str) -> dict[str, list[str]]:
    """{action: the caption texts of the split's motions with that action} of an embedded dataset."""
    from motiongpt.data.humanml3d import load_actions, load_split

    actions = load_actions(data_root)
    grouped: dict[str, set[str]] = {}
    for record in load_split(data_root, split, min_frames=1, max_frames=10**9, cap_frames=10**9):
        action = actions.get(record.source_name) or actions.get(record.name)
        if action:
            grouped.setdefault(action, set()).update(c.text for c in record.captions)
    return {action: sorted(texts) for action, texts in sorted(grouped.items())}


def build_meaning_index(encode, encoder: str, data_root: str | Path, per_action: int | None = None
                        ) -> tuple[MeaningIndex, dict]:
    """Index of the training captions of ``data_root``, its threshold chosen on the val split (its captions:
    phrasings kept out of training; the val list of out-of-vocabulary requests), measured on the test split.
    Returns the index and a report (threshold, val and test separation, nearest-action accuracy)."""
    index = MeaningIndex.build(captions_by_action(data_root, "train"), encode, encoder, per_action=per_action)
    report: dict = {"actions": len(index.actions), "captions": int(len(index.vectors))}
    scores = {}
    for split in ("val", "test"):
        known = captions_by_action(data_root, split)
        texts = [t for action in known for t in known[action]]
        labels = [action for action in known for _ in known[action]]
        unknown = out_of_vocabulary_requests(split)
        best_known = index.similarities(encode(texts)) if texts else np.zeros((0, len(index.actions)))
        best_unknown = index.similarities(encode(unknown))
        nearest = [index.actions[k] for k in best_known.argmax(axis=1)]
        scores[split] = (best_known.max(axis=1), best_unknown.max(axis=1))
        report[split] = {"nearest_action_accuracy": float(np.mean([a == b for a, b in zip(nearest, labels)])) if labels else None}
    threshold = choose_threshold(*scores["val"])
    index = index.with_threshold(threshold)
    report["threshold"] = threshold
    for split in ("val", "test"):
        report[split].update(separation(*scores[split], threshold))
    return index, report
