"""Action classifiers used to evaluate the language model; neither shares any weight with it.

- `MotionActionClassifier`: nearest neighbour over a fixed descriptor of real motions (the held-out test
  motions with their action labels). The descriptor summarises normalised HumanML3D features over time
  (mean and standard deviation of the root velocities, root height, joint positions and joint velocities),
  so motions of different lengths compare.
- `CaptionActionClassifier`: nearest neighbour over word sets of the training captions (Jaccard
  similarity), each labelled with the action of its training motion. It decides which action a generated
  caption names.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np

# root angular/linear velocity and height, ric joint positions, local joint velocities (no 6D rotations,
# no foot contacts: the former are redundant with positions, the latter binary)
DESCRIPTOR_DIMS = np.r_[0:67, 193:259]


def motion_descriptor(features: np.ndarray, normalizer) -> np.ndarray:
    """(T, 263) un-normalised features -> fixed-size vector (mean and std over time of normalised dims)."""
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 263 or array.shape[0] < 2:
        raise ValueError(f"motion descriptor: expected features (T>=2, 263), got {array.shape}")
    normalized = np.asarray(normalizer.normalize(array), dtype=np.float64)[:, DESCRIPTOR_DIMS]
    # root dims are divided by feat_bias in MotionGPT statistics, which makes them dominate: clip them
    normalized = np.clip(normalized, -10.0, 10.0)
    return np.concatenate([normalized.mean(axis=0), normalized.std(axis=0)])


class MotionActionClassifier:
    def __init__(self, features: Sequence[np.ndarray], labels: Sequence[str], normalizer):
        if len(features) != len(labels) or not len(features):
            raise ValueError("motion classifier: needs one label per reference motion and at least one motion")
        self.normalizer = normalizer
        self.labels = list(labels)
        self.descriptors = np.stack([motion_descriptor(f, normalizer) for f in features])

    def predict(self, features: np.ndarray, exclude: int | None = None) -> str:
        distances = np.linalg.norm(self.descriptors - motion_descriptor(features, self.normalizer), axis=1)
        if exclude is not None:
            distances[exclude] = np.inf
        return self.labels[int(np.argmin(distances))]

    def leave_one_out_accuracy(self) -> float:
        """Accuracy on the reference motions themselves, each classified without itself."""
        if len(self.labels) < 2:
            return float("nan")
        hits = [self.predict_descriptor(i) == label for i, label in enumerate(self.labels)]
        return float(np.mean(hits))

    def predict_descriptor(self, index: int) -> str:
        distances = np.linalg.norm(self.descriptors - self.descriptors[index], axis=1)
        distances[index] = np.inf
        return self.labels[int(np.argmin(distances))]


_WORDS = re.compile(r"[a-z]+")


def caption_words(text: str) -> frozenset[str]:
    return frozenset(_WORDS.findall(text.lower()))


class CaptionActionClassifier:
    def __init__(self, captions: Sequence[str], labels: Sequence[str]):
        if len(captions) != len(labels) or not len(captions):
            raise ValueError("caption classifier: needs one label per caption and at least one caption")
        # one entry per distinct caption; a caption used for several actions votes by frequency
        votes: dict[frozenset[str], Counter] = {}
        for caption, label in zip(captions, labels):
            votes.setdefault(caption_words(caption), Counter())[label] += 1
        self.entries = [(words, counter.most_common(1)[0][0]) for words, counter in votes.items() if words]

    def predict(self, caption: str) -> str | None:
        words = caption_words(caption)
        if not words:
            return None
        best, best_score = None, 0.0
        for entry_words, label in self.entries:
            score = len(words & entry_words) / len(words | entry_words)
            if score > best_score:
                best, best_score = label, score
        return best
