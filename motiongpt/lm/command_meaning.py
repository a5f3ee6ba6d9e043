"""What a command means, before anything is generated: the known action it asks for, whether it is known at all,
and how the model would say it.

The model can only do what its training captions describe. Each step of a command is embedded with the
model's frozen sentence encoder (all-MiniLM-L6-v2, the one its text conditioning uses). Its *meaning* is the
action a linear classifier reads from that vector (multinomial logistic regression, every action weighted
equally, fitted by scikit-learn at export on the index's captions and on more requests per action written
independently, ``meaning_phrasings.yaml``). The nearest caption alone is easily swayed by
the words a request shares with another action's captions: "lift your right hand happily" is nearest to a happy
left turn, because the style word is most of what the two share; the classifier has learnt from every action in
every style that a style says nothing of the action (text only, the right action for 93% of phrasings written
independently of the project, ``meaning_val_phrasings.yaml``, against 82% by the nearest caption). An index
without a classifier (exported before) answers with the nearest caption's action.

The similarity to the nearest caption of any action says how close the request is to anything the model was
taught. A request below ``threshold`` (chosen on the val split, see :func:`choose_threshold`) is out of
vocabulary: the ROS node refuses it instead of executing the nearest motion, and checks the meaning against its
allow-list.

:meth:`MeaningIndex.rephrase` says a request in the model's own words: the caption of the request's meaning
nearest to it that names the same speed, no other side, and the style the request names, in the captions' words
or in the more ways of saying each style of ``style_phrasings.yaml`` (`requested_style`); a style said otherwise is
carried over only when the nearest caption happens to carry it.
Text-to-motion generates from that caption with ``text_to_motion.rephrase: meaning`` (`motiongpt.lm.text_grounding`).

The index is ``meaning_index.npz`` in the model folder: the caption texts and their unit vectors (float16),
their action ids, the action names, the threshold, the classifier's weights and bias, and the name of the
sentence encoder that made the vectors, built by ``motiongpt export meaning-index``. The text-to-motion caption
grounding (`motiongpt.lm.text_grounding`, ``captions: meaning_index.npz``) reads its neighbour captions from the
same file, so the captions are embedded once, at export, not at every load.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from motiongpt.data.augment import action_side, named_side, named_speed
from motiongpt.data.bandai_dataset import named_style, style_phrases

INDEX_FILE = "meaning_index.npz"
_OTHER_SIDE = {"left": "right", "right": "left"}  # a text that names one side rules out actions of the other


class MeaningIndexError(ValueError):
    """The meaning index is missing, unreadable or does not fit the sentence encoder."""


@dataclass(frozen=True)
class Meaning:
    text: str
    action: str  # the known action the request means (the classifier's, or the nearest caption's)
    similarity: float  # cosine similarity to the nearest training caption of any action, in [-1, 1]
    known: bool  # similarity >= the index threshold


@dataclass(frozen=True)
class MeaningIndex:
    actions: tuple[str, ...]
    action_ids: np.ndarray  # (N,) int, one per caption vector
    vectors: np.ndarray  # (N, D) float32 unit vectors
    threshold: float
    encoder: str  # the sentence encoder of the vectors (a packaged name or a folder)
    captions: tuple[str, ...] = ()  # the caption of each vector
    classifier_weights: np.ndarray | None = None  # (A, D) float32: action logits = vectors @ weights.T + bias
    classifier_bias: np.ndarray | None = None  # (A,) float32

    @classmethod
    def build(cls, captions_by_action: Mapping[str, Sequence[str]], encode, encoder: str, threshold: float = 0.0,
              per_action: int | None = None, phrasings: Mapping[str, Sequence[str]] | None = None
              ) -> "MeaningIndex":
        """``encode``: list of sentences -> (N, D) unit vectors. ``per_action``: keep at most this many
        distinct captions per action (evenly spaced over their sorted list: deterministic). ``phrasings``: more
        requests per action that the classifier is fitted on besides the captions (not indexed: never a
        rephrasing, nor a nearest caption); an action the captions do not have is an error."""
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
        ids = np.asarray(ids, dtype=np.int32)
        phrasings = {action: list(texts) for action, texts in (phrasings or {}).items() if texts}
        unknown = sorted(set(phrasings) - set(actions))
        if unknown:
            raise MeaningIndexError(f"phrasings for actions without captions: {', '.join(unknown)}")
        extra = [t for action in phrasings for t in phrasings[action]]
        extra_ids = np.asarray([actions.index(a) for a in phrasings for _ in phrasings[a]], dtype=np.int32)
        fit_vectors = np.concatenate([vectors, np.asarray(encode(extra), dtype=np.float32)]) if extra else vectors
        weights, bias = fit_action_classifier(fit_vectors, np.concatenate([ids, extra_ids]), len(actions))
        return cls(actions, ids, vectors, float(threshold), str(encoder), tuple(texts), weights, bias)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """(Q, A): for each query vector, its largest cosine similarity to each action's captions."""
        scores = np.asarray(query, dtype=np.float32) @ self.vectors.T  # (Q, N)
        best = np.full((scores.shape[0], len(self.actions)), -1.0, dtype=np.float32)
        np.maximum.at(best.T, self.action_ids, scores.T)
        return best

    def action_ids_of(self, texts: Sequence[str], query: np.ndarray) -> np.ndarray:
        """(Q,): the action each text (and its query vector) means: the classifier's, or without one the nearest
        caption's, among the actions whose side does not contradict the side the text names
        (`motiongpt.data.augment.named_side`): the sentence encoder hardly tells left from right ("give me a
        wave with your right hand" reads as a wave of the left hand)."""
        query = np.asarray(query, dtype=np.float32)
        if self.classifier_weights is None:
            scores = self.similarities(query)
        else:
            scores = query @ self.classifier_weights.T + self.classifier_bias
        if len(texts) != len(scores):
            raise MeaningIndexError(f"{len(texts)} texts for {len(scores)} query vectors")
        for row, text in zip(scores, texts):
            other_side = _OTHER_SIDE.get(named_side(text))
            if other_side:
                row[self._action_sides == other_side] = -np.inf
        return scores.argmax(axis=1)

    def match(self, texts: Sequence[str], query: np.ndarray) -> list[Meaning]:
        nearest = self.similarities(query).max(axis=1)
        return [Meaning(text, self.actions[int(k)], float(similarity), bool(similarity >= self.threshold))
                for text, k, similarity in zip(texts, self.action_ids_of(texts, query), nearest)]

    def rephrase(self, texts: Sequence[str], query: np.ndarray,
                 style_of: Callable[[str], str | None] | None = None) -> list[str]:
        """For each text and its query vector, the index caption nearest to it among the captions of the action
        it means that name the same speed (slow, fast or none, `motiongpt.data.augment.named_speed`), when the
        text names a side no other side (`motiongpt.data.augment.named_side`), and when it names a style that
        style (``style_of``, by default `requested_style`: the captions' own style words and
        ``style_phrasings.yaml``); each condition in turn is dropped when no caption left meets it. The sentence
        encoder hardly tells "slowly" from "rapidly", left from right, nor "wearily" from "vigorously"; a request
        that names no speed should not be given one."""
        if not self.captions:
            raise MeaningIndexError("this meaning index has no caption texts to rephrase with")
        query = np.asarray(query, dtype=np.float32)
        scores = query @ self.vectors.T  # (Q, N)
        scores[self.action_ids[None, :] != self.action_ids_of(texts, query)[:, None]] = -np.inf
        names, anything = self._caption_names, np.ones(len(self.captions), bool)
        for row, text in zip(scores, texts):
            other_side, style = _OTHER_SIDE.get(named_side(text)), (style_of or requested_style)(text)
            for keep in (names["speed"] == named_speed(text),
                         names["side"] != other_side if other_side else anything,
                         names["style"] == style if style else anything):
                if np.isfinite(row[keep]).any():
                    row[~keep] = -np.inf
        return [self.captions[int(i)] for i in scores.argmax(axis=1)]

    @functools.cached_property
    def _caption_names(self) -> dict[str, np.ndarray]:
        """The speed, side and style each caption names (None where it names none), by caption."""
        return {what: np.array([read(caption) for caption in self.captions], dtype=object)
                for what, read in (("speed", named_speed), ("side", named_side), ("style", named_style))}

    @functools.cached_property
    def _action_sides(self) -> np.ndarray:
        return np.array([action_side(action) for action in self.actions], dtype=object)

    def with_threshold(self, threshold: float) -> "MeaningIndex":
        return dataclasses.replace(self, threshold=float(threshold))

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / INDEX_FILE
        classifier = ({} if self.classifier_weights is None else
                      {"classifier_weights": self.classifier_weights.astype(np.float32),
                       "classifier_bias": self.classifier_bias.astype(np.float32)})
        np.savez_compressed(path, actions=np.array(self.actions), action_ids=self.action_ids,
                            vectors=self.vectors.astype(np.float16), threshold=np.float64(self.threshold),
                            encoder=np.array(self.encoder), captions=np.array(self.captions, dtype=str),
                            **classifier)
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
                            tuple(str(c) for c in data["captions"]) if "captions" in data else (),
                            data["classifier_weights"].astype(np.float32) if "classifier_weights" in data else None,
                            data["classifier_bias"].astype(np.float32) if "classifier_bias" in data else None)
        except Exception as error:  # zip, key and dtype errors alike
            raise MeaningIndexError(f"{path}: unreadable meaning index: {error}") from error
        if index.captions and len(index.captions) != len(index.vectors):
            raise MeaningIndexError(f"{path}: {len(index.captions)} captions for {len(index.vectors)} vectors")
        if index.vectors.ndim != 2 or len(index.action_ids) != len(index.vectors) or (
                len(index.action_ids) and int(index.action_ids.max()) >= len(index.actions)):
            raise MeaningIndexError(f"{path}: inconsistent meaning index (vectors {index.vectors.shape}, "
                                    f"{len(index.action_ids)} ids, {len(index.actions)} actions)")
        weights, bias = index.classifier_weights, index.classifier_bias
        if (weights is None) != (bias is None) or (weights is not None and (
                weights.shape != (len(index.actions), index.vectors.shape[1]) or bias.shape != (len(index.actions),)
                or not (np.isfinite(weights).all() and np.isfinite(bias).all()))):
            raise MeaningIndexError(f"{path}: inconsistent action classifier (weights "
                                    f"{None if weights is None else weights.shape}, bias "
                                    f"{None if bias is None else bias.shape}, {len(index.actions)} actions)")
        if dim is not None and index.vectors.shape[1] != dim:
            raise MeaningIndexError(f"{path}: vectors of size {index.vectors.shape[1]}, the sentence encoder gives {dim}")
        return index


NEVER = -1e9  # the classifier bias of an action without captions


def fit_action_classifier(vectors: np.ndarray, action_ids: np.ndarray, actions: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression from caption vectors to their actions (scikit-learn's defaults: L2,
    C = 1, lbfgs), each action weighted equally however many captions it has. Returns (A, D) weights and (A,)
    bias; an action without captions gets a bias that never wins. Deterministic."""
    from sklearn.linear_model import LogisticRegression

    weights = np.zeros((actions, vectors.shape[1]), dtype=np.float32)
    bias = np.full(actions, NEVER, dtype=np.float32)
    present = np.unique(action_ids)
    if len(present) < 2:  # nothing to tell apart: the one action is every request's meaning
        bias[present] = 0.0
        return weights, bias
    fitted = LogisticRegression(max_iter=5000, class_weight="balanced").fit(vectors, action_ids)
    if len(present) == 2:  # scikit-learn fits one logit for two classes: the second's against the first's zero
        bias[present[0]] = 0.0
        weights[present[1]], bias[present[1]] = fitted.coef_[0], fitted.intercept_[0]
    else:
        weights[fitted.classes_], bias[fitted.classes_] = fitted.coef_, fitted.intercept_
    return weights, bias


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


INDEPENDENT_VAL_FILE = Path(__file__).with_name("meaning_val_phrasings.yaml")
PHRASINGS_FILE = Path(__file__).with_name("meaning_phrasings.yaml")
STYLE_PHRASINGS_FILE = Path(__file__).with_name("style_phrasings.yaml")
STYLE_VAL_FILE = Path(__file__).with_name("style_val_requests.yaml")


def read_phrasings(path: Path) -> dict[str, list[str]]:
    """{action or style: phrasings} of a phrasing file (YAML: a non-empty list of strings under each name)."""
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(isinstance(v, list) and v for v in data.values()):
        raise MeaningIndexError(f"{path}: expected a non-empty list of phrasings under each name")
    return {str(action): [str(t) for t in texts] for action, texts in data.items()}


def independent_val_phrasings() -> dict[str, list[str]]:
    """Phrasings written by someone who saw neither the training captions nor the test phrasings (see the
    file's header): a val set for reading meanings as hard as the test split's."""
    return read_phrasings(INDEPENDENT_VAL_FILE)


def classifier_phrasings() -> dict[str, list[str]]:
    """More requests per action, written independently, that the meaning classifier is fitted on besides the
    training captions (see the file's header)."""
    return read_phrasings(PHRASINGS_FILE)


@functools.lru_cache(maxsize=1)
def _request_style_phrases() -> tuple[tuple[str, str], ...]:
    """The captions' style phrases and those of ``style_phrasings.yaml`` (`style_phrases`), read once."""
    return style_phrases(read_phrasings(STYLE_PHRASINGS_FILE))


def style_val_requests() -> list[dict[str, str]]:
    """Requests for one action in one style said in the writer's own words ({text, action, style}), written by
    someone who saw no file of the project (see the file's header): a val set for reading styles."""
    import yaml

    rows = yaml.safe_load(STYLE_VAL_FILE.read_text()) or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"text", "action", "style"} <= set(r)
                                             for r in rows):
        raise MeaningIndexError(f"{STYLE_VAL_FILE}: expected a list of {{text, action, style}}")
    return [{key: str(r[key]) for key in ("text", "action", "style")} for r in rows]


def requested_style(text: str) -> str | None:
    """The style a request names: in the captions' own style words or in the more ways of saying each style of
    ``style_phrasings.yaml`` ("like my grandpa" -> elderly, "all grumpy" -> angry); None when it names none or
    more than one (`motiongpt.data.bandai_dataset.named_style`)."""
    return named_style(text, _request_style_phrases())


def meaning_accuracy(index: MeaningIndex, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str]
                     ) -> dict[str, float | None]:
    """Share of ``texts`` (with their ``vectors``) whose meaning is their label, and share whose nearest caption's
    action is."""
    if not len(labels):
        return {"meaning_accuracy": None, "nearest_caption_accuracy": None}
    nearest = index.similarities(vectors).argmax(axis=1)
    return {name: float(np.mean([index.actions[k] == a for k, a in zip(ids, labels)]))
            for name, ids in (("meaning_accuracy", index.action_ids_of(texts, vectors)),
                              ("nearest_caption_accuracy", nearest))}


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
    Returns the index and a report (threshold, val and test separation, the meaning and nearest-caption accuracy
    on val, on the independent val phrasings and on test)."""
    index = MeaningIndex.build(captions_by_action(data_root, "train"), encode, encoder, per_action=per_action,
                               phrasings=classifier_phrasings())
    report: dict = {"actions": len(index.actions), "captions": int(len(index.vectors))}
    scores = {}
    for split in ("val", "test"):
        known = captions_by_action(data_root, split)
        texts = [t for action in known for t in known[action]]
        labels = [action for action in known for _ in known[action]]
        unknown = out_of_vocabulary_requests(split)
        vectors = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, index.vectors.shape[1]))
        scores[split] = (index.similarities(vectors).max(axis=1), index.similarities(encode(unknown)).max(axis=1))
        # the meaning (the classifier's action) and, for comparison, the nearest caption's action
        report[split] = meaning_accuracy(index, texts, vectors, labels)
    independent = independent_val_phrasings()
    texts = [t for action in independent for t in independent[action]]
    vectors = np.asarray(encode(texts), dtype=np.float32)
    report["val_independent"] = {**meaning_accuracy(index, texts, vectors,
                                                    [a for a in independent for _ in independent[a]]),
                                 "phrasings": len(texts)}
    threshold = choose_threshold(*scores["val"])
    index = index.with_threshold(threshold)
    report["threshold"] = threshold
    report["val_independent"]["known_accepted"] = float((index.similarities(vectors).max(axis=1) >= threshold).mean())
    for split in ("val", "test"):
        report[split].update(separation(*scores[split], threshold))
    return index, report
