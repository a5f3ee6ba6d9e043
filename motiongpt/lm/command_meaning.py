"""What a command means, before anything is generated: the known action it asks for, whether it is known at all,
and how the model would say it.

The model can only do what its training captions describe. Each step of a command is embedded with the
model's frozen sentence encoder (all-MiniLM-L6-v2, the one its text conditioning uses). Its *meaning* is the
action a linear classifier reads from that vector (multinomial logistic regression, every action weighted
equally, fitted by scikit-learn at export on the index's captions, on more requests per action written
independently, ``meaning_phrasings.yaml``, and on those requests said with the phrases of ``style_phrasings.yaml``,
`styled_action_requests`). The nearest caption alone is easily swayed by
the words a request shares with another action's captions: "lift your right hand happily" is nearest to a happy
left turn, because the style word is most of what the two share; the classifier has learnt from every action in
every style that a style says nothing of the action (text only, the right action for 97% of phrasings written
independently of the project, ``meaning_val_phrasings.yaml``, against 82% by the nearest caption). It reads a
request without the style phrases either style list knows (`action_texts`: "step forward nervously, as if the floor
might break" was read as a crawl), since a style it has not learnt still pulls the vector; and, since stop 40,
without a phrase that says how in words no list knows, where the style classifier reads it as saying a style and
the action classifier is surer without it (`MeaningIndex.without_manner`: "run like a huge lumbering ogre" was read
as a dash). An index without a classifier (exported before) answers with the nearest caption's action.

The similarity to the nearest caption of any action says how close the request is to anything the model was
taught. A request below ``threshold`` (chosen on the val split, see :func:`choose_threshold`) is out of
vocabulary: the ROS node refuses it instead of executing the nearest motion, and checks the meaning against its
allow-list.

:meth:`MeaningIndex.rephrase` says a request in the model's own words: the caption of the request's meaning
nearest to it that names the same speed, no other side, and the style the request names (`MeaningIndex.styles_of`):
in the captions' words or in the more ways of saying each style of ``style_phrasings.yaml`` (`requested_style`),
else by a second classifier over the same sentence vector (styles: multinomial logistic regression fitted at export
on the captions and on the style phrases put into plain captions, `fit_style_classifier`), which also says when a
request names no style, so that it is not given one; a style it is not sure of is carried over only when the
nearest caption happens to carry it.
Text-to-motion generates from that caption with ``text_to_motion.rephrase: meaning`` (`motiongpt.lm.text_grounding`).

The index is ``meaning_index.npz`` in the model folder: the caption texts and their unit vectors (float16),
their action ids, the action names, the threshold, the classifiers' weights, biases and thresholds, and the name
of the sentence encoder that made the vectors, built by ``motiongpt export meaning-index``. The text-to-motion caption
grounding (`motiongpt.lm.text_grounding`, ``captions: meaning_index.npz``) reads its neighbour captions from the
same file, so the captions are embedded once, at export, not at every load.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy.special import softmax

from motiongpt.data.augment import action_side, named_side, named_speed
from motiongpt.data.bandai_dataset import named_style, normalise, style_phrases

INDEX_FILE = "meaning_index.npz"
_OTHER_SIDE = {"left": "right", "right": "left"}  # a text that names one side rules out actions of the other
NO_STYLE = "none"  # the style classifier's class of a request that names no style ("normal" captions included)
# The style classifier's probability from which its style is taken, and the probability of NO_STYLE from which a
# request is taken to name none, chosen on val (benchmarks/style_words.py and benchmarks/style_generation.py: the
# styled requests of style_val_requests.yaml, the plain ones of plain_val_requests.yaml)
STYLE_THRESHOLD = 0.8
PLAIN_THRESHOLD = 0.1
STYLED_PER_PHRASE = 3  # plain captions each style phrase is put into to fit the style classifier
# requests of an action each style phrase is put into to fit the action classifier (export: `build_meaning_index`),
# chosen on val (the val captions, the independent val phrasings and the styled val requests: 0, 3, 6, 10, 16)
STYLED_REQUESTS_PER_PHRASE = 16


class MeaningIndexError(ValueError):
    """The meaning index is missing, unreadable or does not fit the sentence encoder."""


@dataclass(frozen=True)
class Meaning:
    text: str
    action: str  # the known action the request means (the classifier's, or the nearest caption's)
    similarity: float  # cosine similarity to the nearest training caption of any action, in [-1, 1]
    known: bool  # similarity >= the index threshold and the request not read as unknown
    # similarity to the nearest request the model cannot do minus that to the nearest caption or request of its
    # actions (MeaningIndex.unknown_margins), in [-2, 2]; -2 without unknown requests in the index
    unknown_margin: float = -2.0
    nearest_unknown: str = ""  # that request the model cannot do
    read_as_unknown: bool = False  # unknown_margin >= the index's unknown_threshold


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
    style_names: tuple[str, ...] = ()  # the style classifier's classes: style labels and NO_STYLE
    style_weights: np.ndarray | None = None  # (S, D) float32: style logits = vectors @ weights.T + bias
    style_bias: np.ndarray | None = None  # (S,) float32
    style_threshold: float = STYLE_THRESHOLD
    plain_threshold: float = PLAIN_THRESHOLD
    request_vectors: np.ndarray | None = None  # (M, D) float32: the requests the action classifier is fitted on
    unknown_vectors: np.ndarray | None = None  # (U, D) float32: requests of nothing the model knows
    unknown_texts: tuple[str, ...] = ()  # those requests
    unknown_threshold: float = np.inf  # the unknown margin from which a request is read as unknown (inf: never)

    @classmethod
    def build(cls, captions_by_action: Mapping[str, Sequence[str]], encode, encoder: str, threshold: float = 0.0,
              per_action: int | None = None, phrasings: Mapping[str, Sequence[str]] | None = None,
              style_phrasings: Mapping[str, Sequence[str]] | None = None,
              unknown_requests: Sequence[str] | None = None, styled_requests: int = 0) -> "MeaningIndex":
        """``encode``: list of sentences -> (N, D) unit vectors. ``per_action``: keep at most this many
        distinct captions per action (evenly spaced over their sorted list: deterministic). ``phrasings``: more
        requests per action that the classifier is fitted on besides the captions (not indexed: never a
        rephrasing, nor a nearest caption); an action the captions do not have is an error. ``style_phrasings``
        ({style: phrases}, as ``style_phrasings.yaml``): also fit the style classifier (`fit_style_classifier`).
        ``unknown_requests``: requests of nothing the model knows (``out_of_vocabulary_phrasings.yaml``): kept with
        ``phrasings`` to read a request as unknown when it is nearer to them than to what the model knows
        (`unknown_margins`); never, until `with_unknown_threshold` sets the margin. ``styled_requests``: with
        ``phrasings`` and ``style_phrasings``, also fit the action classifier on each style phrase put into this
        many of the phrasings (`styled_action_requests`), so that it reads the action apart from the style."""
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
        classifier_vectors, classifier_ids = fit_vectors, np.concatenate([ids, extra_ids])
        if styled_requests and phrasings and style_phrasings:
            styled, styled_actions = styled_action_requests(phrasings, style_phrasings, styled_requests)
            classifier_vectors = np.concatenate([fit_vectors, np.asarray(encode(styled), dtype=np.float32)])
            classifier_ids = np.concatenate([classifier_ids, [actions.index(a) for a in styled_actions]])
        weights, bias = fit_action_classifier(classifier_vectors, classifier_ids.astype(np.int32), len(actions))
        index = cls(actions, ids, vectors, float(threshold), str(encoder), tuple(texts), weights, bias)
        if unknown_requests:
            index = dataclasses.replace(index, request_vectors=fit_vectors[len(vectors):],
                                        unknown_vectors=np.asarray(encode(list(unknown_requests)), dtype=np.float32),
                                        unknown_texts=tuple(unknown_requests))
        if style_phrasings is None:
            return index
        names, style_weights, style_bias = fit_style_classifier(texts, vectors, style_phrasings, encode)
        return dataclasses.replace(index, style_names=names, style_weights=style_weights, style_bias=style_bias)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """(Q, A): for each query vector, its largest cosine similarity to each action's captions."""
        scores = np.asarray(query, dtype=np.float32) @ self.vectors.T  # (Q, N)
        best = np.full((scores.shape[0], len(self.actions)), -1.0, dtype=np.float32)
        np.maximum.at(best.T, self.action_ids, scores.T)
        return best

    def action_ids_of(self, texts: Sequence[str], query: np.ndarray, action_query: np.ndarray | None = None
                      ) -> np.ndarray:
        """(Q,): the action each text (and its query vector) means: the classifier's, or without one the nearest
        caption's, among the actions whose side does not contradict the side the text names
        (`motiongpt.data.augment.named_side`): the sentence encoder hardly tells left from right ("give me a
        wave with your right hand" reads as a wave of the left hand). ``action_query``: the vectors to read the
        action from instead, those of the texts without their style words (`action_texts`)."""
        query = np.asarray(query if action_query is None else action_query, dtype=np.float32)
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

    def unknown_margins(self, query: np.ndarray, nearest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(Q,) margins and (Q,) indices into ``unknown_texts``: for each query, its cosine similarity to the
        nearest request of nothing the model knows minus that to the nearest caption or action request (what it
        knows), and which request that is; margins of -2 (and index -1) without unknown requests (indexes
        exported before stop 41). ``nearest``: each query's similarity to its nearest caption, where known."""
        query = np.asarray(query, dtype=np.float32)
        if self.unknown_vectors is None:
            return np.full(len(query), -2.0, dtype=np.float32), np.full(len(query), -1)
        unknown = query @ self.unknown_vectors.T
        known = (query @ self.vectors.T).max(axis=1) if nearest is None else np.asarray(nearest, dtype=np.float32)
        if self.request_vectors is not None and len(self.request_vectors):
            known = np.maximum(known, (query @ self.request_vectors.T).max(axis=1))
        return unknown.max(axis=1) - known, unknown.argmax(axis=1)

    def match(self, texts: Sequence[str], query: np.ndarray, action_query: np.ndarray | None = None
              ) -> list[Meaning]:
        """Each text's meaning; known where it is near enough to a caption (``threshold``) and not read as
        unknown (``unknown_threshold``: nearer to a request the model cannot do than the margin allows)."""
        nearest = self.similarities(query).max(axis=1)
        margins, unknown = self.unknown_margins(query, nearest)
        return [Meaning(text, self.actions[int(k)], float(similarity),
                        bool(similarity >= self.threshold and margin < self.unknown_threshold), float(margin),
                        self.unknown_texts[u] if u >= 0 else "", bool(margin >= self.unknown_threshold))
                for text, k, similarity, margin, u in zip(texts, self.action_ids_of(texts, query, action_query),
                                                          nearest, margins, unknown)]

    def styles_of(self, texts: Sequence[str], query: np.ndarray) -> list[str | None]:
        """The style each text (and its query vector) names: in the captions' own style words or in those of
        ``style_phrasings.yaml`` (`requested_style`); else, with a style classifier, the style it gives at least
        ``style_threshold`` probability, or NO_STYLE when it gives NO_STYLE at least ``plain_threshold`` (the
        request names no style); else None (not known)."""
        named: list[str | None] = [requested_style(text) for text in texts]
        if self.style_weights is None or all(named):
            return named
        logits = np.asarray(query, dtype=np.float32) @ self.style_weights.T + self.style_bias
        probabilities = softmax(logits, axis=1)
        plain = self.style_names.index(NO_STYLE)
        for row, best in enumerate(probabilities.argmax(axis=1)):
            if named[row] is not None:
                continue
            if best != plain and probabilities[row, best] >= self.style_threshold:
                named[row] = self.style_names[best]
            elif probabilities[row, plain] >= self.plain_threshold:
                named[row] = NO_STYLE
        return named

    def without_manner(self, texts: Sequence[str], query: np.ndarray, encode, said: Sequence[str] | None = None
                       ) -> np.ndarray:
        """``query`` (the vectors the texts' actions are read from), where a text says how it is done in words no
        style list knows, with the vector of the text without them: of its `manner_splits` (and those of the text
        as ``said``, where the texts are the requests without their known style words: taking those out can leave
        a phrase no longer read as one, "with a graceful womanly air" -> "with a air"), the phrase the style
        classifier reads as saying a style (any style at least ``style_threshold`` together: "with a young person's
        bounce" is youthful or childish) that leaves the most words; kept only where the action classifier is surer
        of the action without the phrase than with it: a style said in words the classifiers never saw still pulls
        the vector ("run like a huge lumbering ogre" was read as a dash, "walk forward like you just lost your best
        friend" as walking back). An index without both classifiers reads every text as it is."""
        query = np.array(query, dtype=np.float32, copy=True)
        if self.style_weights is None or self.classifier_weights is None:
            return query
        said = texts if said is None else said
        pairs = [(row, head, phrase) for row, text in enumerate(texts) for head, phrase in manner_splits(text)]
        pairs += [(row, head, phrase) for row, (text, as_said) in enumerate(zip(texts, said)) if as_said != text
                  for head, phrase in manner_splits(as_said)]
        if not pairs:
            return query
        # every phrase and every rest in one batch of the sentence encoder (one call costs more than a few texts)
        vectors = np.asarray(encode([phrase for _, _, phrase in pairs] + [head for _, head, _ in pairs]),
                             dtype=np.float32)
        style = softmax(vectors[:len(pairs)] @ self.style_weights.T + self.style_bias, axis=1)
        says_a_style = 1.0 - style[:, self.style_names.index(NO_STYLE)] >= self.style_threshold
        heads = {}  # row -> (the words left by its longest-leaving phrase read as a style, their vector)
        for (row, head, _), is_style, vector in zip(pairs, says_a_style, vectors[len(pairs):]):
            if is_style and len(head) > len(heads.get(row, ("",))[0]):
                heads[row] = (head, vector)
        if not heads:
            return query
        rows = list(heads)
        head_vectors = np.stack([heads[row][1] for row in rows])
        surer = self._action_confidence(head_vectors) > self._action_confidence(query[rows])
        query[np.asarray(rows)[surer]] = head_vectors[surer]
        return query

    def _action_confidence(self, query: np.ndarray) -> np.ndarray:
        """(Q,): the action classifier's probability of its most likely action for each vector."""
        return softmax(np.asarray(query, dtype=np.float32) @ self.classifier_weights.T + self.classifier_bias,
                       axis=1).max(axis=1)

    def rephrase(self, texts: Sequence[str], query: np.ndarray,
                 style_of: Callable[[str], str | None] | None = None, action_query: np.ndarray | None = None
                 ) -> list[str]:
        """For each text and its query vector, the index caption nearest to it among the captions of the action
        it means that name the same speed (slow, fast or none, `motiongpt.data.augment.named_speed`), when the
        text names a side no other side (`motiongpt.data.augment.named_side`), and the style it names (``style_of``,
        by default `styles_of`: the captions' own style words, ``style_phrasings.yaml``, the style classifier): that
        style, no style (none, or "normal") for NO_STYLE, any for None; each condition in turn is dropped when no
        caption left meets it. The sentence encoder hardly tells "slowly" from "rapidly", left from right, nor
        "wearily" from "vigorously"; a request that names no speed or no style should not be given one ("take a few
        steps forward" was "walk forward sadly")."""
        if not self.captions:
            raise MeaningIndexError("this meaning index has no caption texts to rephrase with")
        query = np.asarray(query, dtype=np.float32)
        styles = self.styles_of(texts, query) if style_of is None else [style_of(text) for text in texts]
        scores = query @ self.vectors.T  # (Q, N)
        scores[self.action_ids[None, :] != self.action_ids_of(texts, query, action_query)[:, None]] = -np.inf
        names, anything = self._caption_names, np.ones(len(self.captions), bool)
        plain = self._plain_captions
        for row, text, style in zip(scores, texts, styles):
            other_side = _OTHER_SIDE.get(named_side(text))
            for keep in (names["speed"] == named_speed(text),
                         names["side"] != other_side if other_side else anything,
                         plain if style == NO_STYLE else names["style"] == style if style else anything):
                if np.isfinite(row[keep]).any():
                    row[~keep] = -np.inf
        return [self.captions[int(i)] for i in scores.argmax(axis=1)]

    @functools.cached_property
    def _caption_names(self) -> dict[str, np.ndarray]:
        """The speed, side and style each caption names (None where it names none), by caption."""
        return {what: np.array([read(caption) for caption in self.captions], dtype=object)
                for what, read in (("speed", named_speed), ("side", named_side), ("style", named_style))}

    @functools.cached_property
    def _plain_captions(self) -> np.ndarray:
        """(N,) bool: the captions that name no style, or "normal"."""
        return np.isin(self._caption_names["style"], [None, "normal"])

    @functools.cached_property
    def _action_sides(self) -> np.ndarray:
        return np.array([action_side(action) for action in self.actions], dtype=object)

    def with_threshold(self, threshold: float) -> "MeaningIndex":
        return dataclasses.replace(self, threshold=float(threshold))

    def with_unknown_threshold(self, threshold: float) -> "MeaningIndex":
        return dataclasses.replace(self, unknown_threshold=float(threshold))

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / INDEX_FILE
        classifier = ({} if self.classifier_weights is None else
                      {"classifier_weights": self.classifier_weights.astype(np.float32),
                       "classifier_bias": self.classifier_bias.astype(np.float32)})
        if self.style_weights is not None:
            classifier.update(style_names=np.array(self.style_names),
                              style_weights=self.style_weights.astype(np.float32),
                              style_bias=self.style_bias.astype(np.float32),
                              style_threshold=np.float64(self.style_threshold),
                              plain_threshold=np.float64(self.plain_threshold))
        if self.unknown_vectors is not None:
            classifier.update(request_vectors=self.request_vectors.astype(np.float16),
                              unknown_vectors=self.unknown_vectors.astype(np.float16),
                              unknown_texts=np.array(self.unknown_texts, dtype=str),
                              unknown_threshold=np.float64(self.unknown_threshold))
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
                            data["classifier_bias"].astype(np.float32) if "classifier_bias" in data else None,
                            *((tuple(str(n) for n in data["style_names"]), data["style_weights"].astype(np.float32),
                               data["style_bias"].astype(np.float32), float(data["style_threshold"]),
                               float(data["plain_threshold"]))
                              if "style_weights" in data else ()))
                if "unknown_vectors" in data:
                    index = dataclasses.replace(index, request_vectors=data["request_vectors"].astype(np.float32),
                                                unknown_vectors=data["unknown_vectors"].astype(np.float32),
                                                unknown_texts=tuple(str(t) for t in data["unknown_texts"]),
                                                unknown_threshold=float(data["unknown_threshold"]))
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
        weights, bias, names = index.style_weights, index.style_bias, index.style_names
        if weights is not None and (
                NO_STYLE not in names or weights.shape != (len(names), index.vectors.shape[1])
                or bias.shape != (len(names),) or not (np.isfinite(weights).all() and np.isfinite(bias).all())
                or not 0.0 < index.style_threshold <= 1.0 or not 0.0 < index.plain_threshold <= 1.0):
            raise MeaningIndexError(f"{path}: inconsistent style classifier (weights {weights.shape}, bias "
                                    f"{bias.shape}, {len(names)} classes, thresholds {index.style_threshold}, "
                                    f"{index.plain_threshold})")
        unknown, requests = index.unknown_vectors, index.request_vectors
        if unknown is not None and (
                unknown.ndim != 2 or unknown.shape[1:] != index.vectors.shape[1:] or not len(unknown)
                or requests.ndim != 2 or requests.shape[1:] != index.vectors.shape[1:]
                or len(index.unknown_texts) != len(unknown) or np.isnan(index.unknown_threshold)):
            raise MeaningIndexError(f"{path}: inconsistent unknown requests (vectors {unknown.shape}, "
                                    f"{len(index.unknown_texts)} texts, action requests {requests.shape}, "
                                    f"threshold {index.unknown_threshold})")
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
    weights[fitted.classes_], bias[fitted.classes_] = _logits_per_class(fitted)
    return weights, bias


def _logits_per_class(fitted) -> tuple[np.ndarray, np.ndarray]:
    """A fitted scikit-learn logistic regression as one row of weights and one bias per class (in
    ``fitted.classes_`` order): for two classes it fits one logit, the second class's against the first's zero."""
    if len(fitted.classes_) == 2:
        return (np.stack([np.zeros_like(fitted.coef_[0]), fitted.coef_[0]]),
                np.array([0.0, fitted.intercept_[0]]))
    return fitted.coef_, fitted.intercept_


def styled_action_requests(phrasings: Mapping[str, Sequence[str]], style_phrasings: Mapping[str, Sequence[str]],
                           per_phrase: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Each phrase of ``style_phrasings`` put into ``per_phrase`` requests of ``phrasings`` ({action: requests})
    that name no style, drawn with ``seed`` ("turn left like a grandpa", "all grumpy, wave with your left hand"),
    and the action of each: examples of an action said with a style in words the action classifier would
    otherwise read as an action ("hold your hand up with a bounce" read as a jump). Returns (texts, actions).
    Deterministic."""
    plain = [(text.rstrip(" .!"), action) for action, texts in sorted(phrasings.items()) for text in texts
             if requested_style(text) is None]
    if not plain:
        return [], []
    rng = np.random.default_rng(seed)
    texts, actions = [], []
    for _, phrases in sorted(style_phrasings.items()):
        for phrase in phrases:
            for row in rng.choice(len(plain), size=min(per_phrase, len(plain)), replace=False):
                request, action = plain[row]
                texts.append(f"{request} {phrase}" if rng.random() < 0.7 else f"{phrase}, {request}")
                actions.append(action)
    return texts, actions


def fit_style_classifier(captions: Sequence[str], vectors: np.ndarray, style_phrasings: Mapping[str, Sequence[str]],
                         encode, seed: int = 0) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Multinomial logistic regression from a request's sentence vector to the style it names, for styles said in
    words on no list. Fitted on the captions (``vectors``), labelled with the style their own style words name
    (NO_STYLE for none or "normal"), and on each phrase of ``style_phrasings`` put into STYLED_PER_PHRASE plain
    captions drawn with ``seed`` ("walk forward grumpily", "like a grandpa, a person bows"), so that it learns the
    style words apart from the actions; every class weighted equally. Returns (classes, (S, D) weights, (S,)
    bias). Deterministic."""
    from sklearn.linear_model import LogisticRegression

    from motiongpt.data.bandai_dataset import style_label

    labels = [style if style not in (None, "normal") else NO_STYLE for style in map(named_style, captions)]
    plain = [caption.rstrip(" .") for caption, label in zip(captions, labels) if label == NO_STYLE]
    rng = np.random.default_rng(seed)
    styled, styled_labels = [], []
    for style, phrases in sorted(style_phrasings.items()):
        label = style_label(style)
        for phrase in phrases:
            for caption in rng.choice(plain, size=min(STYLED_PER_PHRASE, len(plain)), replace=False):
                styled.append(f"{caption} {phrase}" if rng.random() < 0.7 else f"{phrase}, {caption}")
                styled_labels.append(label if label != "normal" else NO_STYLE)
    fit_vectors = np.concatenate([vectors, np.asarray(encode(styled), dtype=np.float32)]) if styled else vectors
    fit_labels = labels + styled_labels
    names = tuple(sorted(set(fit_labels)))
    if len(names) < 2 or NO_STYLE not in names:
        raise MeaningIndexError(f"a style classifier needs styled and plain captions, got classes {names}")
    fitted = LogisticRegression(max_iter=3000, class_weight="balanced").fit(
        fit_vectors, np.array([names.index(label) for label in fit_labels]))
    weights, bias = _logits_per_class(fitted)
    return names, weights.astype(np.float32), bias.astype(np.float32)


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


def choose_unknown_threshold(known: tuple[np.ndarray, np.ndarray], unknown: tuple[np.ndarray, np.ndarray],
                             threshold: float) -> float:
    """The unknown margin (`MeaningIndex.unknown_margins`) from which a request is read as unknown that, with the
    similarity ``threshold``, best separates requests the model knows from requests it does not: ``known`` and
    ``unknown`` are each (nearest caption similarities, unknown margins). A request is accepted when its
    similarity is at least ``threshold`` and its margin below the chosen one; the midpoint between neighbouring
    sorted margins (or inf: never) that maximises balanced accuracy, ties broken towards accepting."""
    return _best_margin(known, unknown, threshold)[0]


def _best_margin(known: tuple[np.ndarray, np.ndarray], unknown: tuple[np.ndarray, np.ndarray], threshold: float
                 ) -> tuple[float, float]:
    """`choose_unknown_threshold`'s margin and the balanced accuracy the two rules reach with it."""
    (known_similarity, known_margin), (unknown_similarity, unknown_margin) = [
        (np.asarray(a, float), np.asarray(b, float)) for a, b in (known, unknown)]
    if not known_margin.size or not unknown_margin.size:
        raise MeaningIndexError("choosing a threshold needs both known and unknown requests")
    values = np.unique(np.concatenate([known_margin, unknown_margin]))
    candidates = np.concatenate([(values[1:] + values[:-1]) / 2, [np.inf]])
    accept = ((known_similarity >= threshold)[None, :] & (known_margin[None, :] < candidates[:, None])).mean(axis=1)
    refuse = ((unknown_similarity < threshold)[None, :]
              | (unknown_margin[None, :] >= candidates[:, None])).mean(axis=1)
    balanced = (accept + refuse) / 2
    best = np.flatnonzero(balanced >= balanced.max() - 1e-12)[-1]
    return float(candidates[best]), float(balanced[best])


def choose_thresholds(known: tuple[np.ndarray, np.ndarray], unknown: tuple[np.ndarray, np.ndarray]
                      ) -> tuple[float, float]:
    """The similarity threshold and the unknown margin chosen together: for each similarity threshold (the
    midpoints between neighbouring sorted similarities, and one below them all) its best margin
    (`choose_unknown_threshold`); the pair with the best balanced accuracy, ties broken towards accepting (the
    lowest threshold). ``known`` and ``unknown``: each (nearest caption similarities, unknown margins)."""
    similarities = np.unique(np.concatenate([np.asarray(known[0], float), np.asarray(unknown[0], float)]))
    if not similarities.size:
        raise MeaningIndexError("choosing a threshold needs both known and unknown requests")
    best = None
    for threshold in np.concatenate([[similarities[0] - 1e-6], (similarities[1:] + similarities[:-1]) / 2]):
        margin, balanced = _best_margin(known, unknown, float(threshold))
        if best is None or balanced > best[0] + 1e-12:
            best = (balanced, float(threshold), margin)
    return best[1], best[2]


def separation(known: np.ndarray, unknown: np.ndarray, threshold: float) -> dict[str, float]:
    """Share of known requests accepted and of unknown requests refused at ``threshold``."""
    return _acceptance(np.asarray(known, float) >= threshold, np.asarray(unknown, float) >= threshold)


def _acceptance(known_accepted: np.ndarray, unknown_accepted: np.ndarray) -> dict[str, float]:
    """The report of a rule's decisions: share of known requests accepted, of unknown ones refused, and counts."""
    return {"known_accepted": float(known_accepted.mean()) if known_accepted.size else float("nan"),
            "unknown_refused": float((~unknown_accepted).mean()) if unknown_accepted.size else float("nan"),
            "known": int(known_accepted.size), "unknown": int(unknown_accepted.size)}


OUT_OF_VOCABULARY_FILE = Path(__file__).with_name("out_of_vocabulary_requests.yaml")
OUT_OF_VOCABULARY_PHRASINGS_FILE = Path(__file__).with_name("out_of_vocabulary_phrasings.yaml")


def out_of_vocabulary_requests(split: str) -> list[str]:
    import yaml

    requests = yaml.safe_load(OUT_OF_VOCABULARY_FILE.read_text()) or {}
    if split not in requests:
        raise MeaningIndexError(f"{OUT_OF_VOCABULARY_FILE}: no {split!r} list")
    return [str(text) for text in requests[split]]


def out_of_vocabulary_phrasings() -> list[str]:
    """Requests of nothing the model knows that the index keeps to read a request as unknown (see the file's
    header and `MeaningIndex.unknown_margins`); never used to choose or measure its threshold."""
    import yaml

    requests = (yaml.safe_load(OUT_OF_VOCABULARY_PHRASINGS_FILE.read_text()) or {}).get("requests")
    if not isinstance(requests, list) or not requests:
        raise MeaningIndexError(f"{OUT_OF_VOCABULARY_PHRASINGS_FILE}: expected a non-empty list under 'requests'")
    return [str(text) for text in requests]


INDEPENDENT_VAL_FILE = Path(__file__).with_name("meaning_val_phrasings.yaml")
PHRASINGS_FILE = Path(__file__).with_name("meaning_phrasings.yaml")
STYLE_PHRASINGS_FILE = Path(__file__).with_name("style_phrasings.yaml")
STYLE_VAL_FILE = Path(__file__).with_name("style_val_requests.yaml")
STYLE_TEST_FILE = Path(__file__).with_name("style_test_requests.yaml")
PLAIN_VAL_FILE = Path(__file__).with_name("plain_val_requests.yaml")


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


def action_texts(texts: Sequence[str]) -> list[str]:
    """Each request as its action is read: without the style phrases `requested_style` knows ("stomp forward like
    you're furious" -> "stomp forward"), since a request's sentence vector mixes its style into its action ("walk
    forward like you just lost your best friend" read as walking backwards); the request itself where it names no
    style phrase or is nothing else. (Style phrases inside a longer one are taken out once, as `named_style` reads
    them.)"""
    phrases = _request_style_phrases()
    out = []
    for text in texts:
        words, found = f" {normalise(text)} ", False
        for phrase, _ in phrases:
            if f" {phrase} " in words:  # as named_style: a mark, so no phrase spans the words either side
                words, found = words.replace(f" {phrase} ", " | "), True
        left = " ".join(word for word in words.split() if word != "|")
        out.append(left if found and left else text)
    return out


def style_val_requests() -> list[dict[str, str]]:
    """Requests for one action in one style said in the writer's own words ({text, action, style}), written by
    someone who saw no file of the project (see the file's header): a val set for reading styles."""
    return _styled_requests(STYLE_VAL_FILE)


def style_test_requests() -> list[dict[str, str]]:
    """Requests for one of all the actions in one style, as `style_val_requests`, by another writer, after the
    way of reading them was chosen (see the file's header): a test set for reading actions and styles."""
    return _styled_requests(STYLE_TEST_FILE)


def _styled_requests(path: Path) -> list[dict[str, str]]:
    import yaml

    rows = yaml.safe_load(path.read_text()) or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"text", "action", "style"} <= set(r)
                                             for r in rows):
        raise MeaningIndexError(f"{path}: expected a list of {{text, action, style}}")
    return [{key: str(r[key]) for key in ("text", "action", "style")} for r in rows]


def plain_val_requests() -> list[str]:
    """Requests for one action said plainly, naming no style (see the file's header): a val set for reading
    styles, where no style should be read."""
    import yaml

    rows = yaml.safe_load(PLAIN_VAL_FILE.read_text())
    if not isinstance(rows, list) or not all(isinstance(r, str) and r.strip() for r in rows):
        raise MeaningIndexError(f"{PLAIN_VAL_FILE}: expected a list of requests")
    return list(rows)


def requested_style(text: str) -> str | None:
    """The style a request names: in the captions' own style words or in the more ways of saying each style of
    ``style_phrasings.yaml`` ("like my grandpa" -> elderly, "all grumpy" -> angry); None when it names none or
    more than one (`motiongpt.data.bandai_dataset.named_style`)."""
    return named_style(text, _request_style_phrases())


def meaning_accuracy(index: MeaningIndex, texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str],
                     action_query: np.ndarray | None = None) -> dict[str, float | None]:
    """Share of ``texts`` (with their ``vectors``, and those of their `action_texts`) whose meaning is their label,
    and share whose nearest caption's action is."""
    if not len(labels):
        return {"meaning_accuracy": None, "nearest_caption_accuracy": None}
    nearest = index.similarities(vectors).argmax(axis=1)
    return {name: float(np.mean([index.actions[k] == a for k, a in zip(ids, labels)]))
            for name, ids in (("meaning_accuracy", index.action_ids_of(texts, vectors, action_query)),
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


def build_meaning_index(encode, encoder: str, data_root: str | Path, per_action: int | None = None,
                        styled_requests: int = STYLED_REQUESTS_PER_PHRASE) -> tuple[MeaningIndex, dict]:
    """Index of the training captions of ``data_root``, its thresholds chosen on the val split (its captions:
    phrasings kept out of training; the independent val phrasings; the val list of out-of-vocabulary requests),
    measured on the test split. Returns the index and a report (thresholds, val and test separation with the
    similarity alone and with the unknown requests too, the meaning and nearest-caption accuracy on
    val, on the independent val phrasings and on test)."""
    index = MeaningIndex.build(captions_by_action(data_root, "train"), encode, encoder, per_action=per_action,
                               phrasings=classifier_phrasings(), style_phrasings=read_phrasings(STYLE_PHRASINGS_FILE),
                               unknown_requests=out_of_vocabulary_phrasings(), styled_requests=styled_requests)
    report: dict = {"actions": len(index.actions), "captions": int(len(index.vectors)),
                    "unknown_requests": len(out_of_vocabulary_phrasings())}
    scores, unknown_scores = {}, {}
    for split in ("val", "test"):
        known = captions_by_action(data_root, split)
        texts = [t for action in known for t in known[action]]
        labels = [action for action in known for _ in known[action]]
        unknown = np.asarray(encode(out_of_vocabulary_requests(split)), dtype=np.float32)
        vectors = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, index.vectors.shape[1]))
        scores[split] = (index.similarities(vectors).max(axis=1), index.similarities(unknown).max(axis=1))
        unknown_scores[split] = (index.unknown_margins(vectors)[0], index.unknown_margins(unknown)[0])
        # the meaning (the classifier's action) and, for comparison, the nearest caption's action
        report[split] = meaning_accuracy(index, texts, vectors, labels,
                                         action_vectors(encode, texts, vectors, index))
    independent = independent_val_phrasings()
    texts = [t for action in independent for t in independent[action]]
    vectors = np.asarray(encode(texts), dtype=np.float32)
    report["val_independent"] = {**meaning_accuracy(index, texts, vectors,
                                                    [a for a in independent for _ in independent[a]],
                                                    action_vectors(encode, texts, vectors, index)),
                                 "phrasings": len(texts)}
    independent_scores = (index.similarities(vectors).max(axis=1), index.unknown_margins(vectors)[0])
    for name, styled in (("val_styled", style_val_requests()), ("test_styled", style_test_requests())):
        texts = [row["text"] for row in styled]
        vectors = np.asarray(encode(texts), dtype=np.float32)
        report[name] = {**meaning_accuracy(index, texts, vectors, [row["action"] for row in styled],
                                           action_vectors(encode, texts, vectors, index)),
                        "requests": len(texts)}
    # the similarity rule alone, as before stop 41: its threshold chosen on the val captions against the val requests
    alone = choose_threshold(*scores["val"])
    report["similarity_only"] = {"threshold": alone,
                                 **{split: separation(*scores[split], alone) for split in ("val", "test")},
                                 "val_independent_accepted": float((independent_scores[0] >= alone).mean())}
    # both rules, their thresholds chosen together on the val captions and the independent val phrasings against
    # the val requests of nothing the model knows
    known_val = tuple(np.concatenate([a, b]) for a, b in zip((scores["val"][0], unknown_scores["val"][0]),
                                                             independent_scores))
    threshold, margin = choose_thresholds(known_val, (scores["val"][1], unknown_scores["val"][1]))
    index = index.with_threshold(threshold).with_unknown_threshold(margin)
    report["threshold"], report["unknown_threshold"] = threshold, margin  # inf: never read as unknown ("Infinity")
    report["val_independent"]["known_accepted"] = float(
        ((independent_scores[0] >= threshold) & (independent_scores[1] < margin)).mean())
    for split in ("val", "test"):
        report[split].update(separation_with_unknown(scores[split], unknown_scores[split], index))
    report["styles"] = style_reading(index, encode)
    return index, report


def separation_with_unknown(similarities: tuple[np.ndarray, np.ndarray], margins: tuple[np.ndarray, np.ndarray],
                            index: MeaningIndex) -> dict[str, float]:
    """Share of known requests accepted and of unknown requests refused by both of ``index``'s rules (similarity
    and unknown margin); each argument is (known, unknown)."""
    return _acceptance(*[(np.asarray(s) >= index.threshold) & (np.asarray(m) < index.unknown_threshold)
                         for s, m in zip(similarities, margins)])


def action_vectors(encode, texts: Sequence[str], vectors: np.ndarray, index: MeaningIndex | None = None
                   ) -> np.ndarray:
    """The vectors the texts' actions are read from: those of their `action_texts` (a text's own where it is its
    action text), and with an ``index``, without a phrase that says how in other words
    (`MeaningIndex.without_manner`)."""
    stripped = action_texts(texts)
    rows = [i for i, (text, action_text) in enumerate(zip(texts, stripped)) if action_text != text]
    out = np.array(vectors, dtype=np.float32, copy=True)
    if rows:
        out[rows] = np.asarray(encode([stripped[i] for i in rows]), dtype=np.float32)
    return out if index is None else index.without_manner(stripped, out, encode, said=texts)


# Words that open a phrase saying how something is done: "... with a spring in your step", "... like a robot",
# "... as if nobody is watching", "... in a grumpy way", "... the way a child would", "... while smiling", "... full
# of joy", "... feeling great", "... all excited", "... completely worn out", "... looking proud".
MANNER_OPENERS = ("with", "like", "as", "in", "the way", "while", "feeling", "full of", "all", "completely",
                  "totally", "utterly", "looking")
_PART_OR_SIDE = re.compile(r"\b(?:hands?|arms?|legs?|feet|foot|fists?|head|knees?|left|right|both)\b")


def manner_splits(text: str) -> list[tuple[str, str]]:
    """The ways to cut a request into what is done and a phrase that may say how, as (what, phrase): at each
    `MANNER_OPENERS` word after the first ("walk forward" + "like a tired old man"), and before the first comma
    ("sidestep to the left" + "in a really good mood"). A phrase that names a body part or a side says what is
    done ("wave" + "with both hands"), and is not offered."""
    splits = []
    lead, comma, rest = text.partition(",")
    if comma and lead.split() and rest.split():
        splits.append((" ".join(rest.replace(",", " ").split()), " ".join(lead.split())))
    words = text.replace(",", " ").split()
    lowered = [word.lower() for word in words]
    for start in range(1, len(words)):
        tail = " ".join(lowered[start:])
        if any(tail.startswith(opener + " ") for opener in MANNER_OPENERS):
            splits.append((" ".join(words[:start]), " ".join(words[start:])))
    return [(what, phrase) for what, phrase in splits if not _PART_OR_SIDE.search(phrase.lower())]


def style_reading(index: MeaningIndex, encode) -> dict:
    """How the index reads styles on the val requests (style_val_requests.yaml and plain_val_requests.yaml): the
    `style_rates` of the words alone (`requested_style`) and with the style classifier (`MeaningIndex.styles_of`)."""
    rows, plain = style_val_requests(), plain_val_requests()
    texts = [row["text"] for row in rows]
    vectors, plain_vectors = (np.asarray(encode(t), dtype=np.float32) for t in (texts, plain))
    report: dict = {"styled_requests": len(rows), "plain_requests": len(plain)}
    if index.style_weights is not None:
        report.update(style_threshold=index.style_threshold, plain_threshold=index.plain_threshold)
    for name, read, read_plain in (("words", [requested_style(t) for t in texts], [requested_style(t) for t in plain]),
                                   ("words_and_classifier", index.styles_of(texts, vectors),
                                    index.styles_of(plain, plain_vectors))):
        report[name] = style_rates(index, rows, read, plain, plain_vectors, read_plain)
    return report


def style_rates(index: MeaningIndex, rows: Sequence[Mapping[str, str]], read: Sequence[str | None],
                plain: Sequence[str], plain_vectors: np.ndarray, read_plain: Sequence[str | None]) -> dict:
    """Of the styled requests ``rows`` ({text, style}) whose styles were read as ``read``, the share read right and
    read wrong (a style other than theirs); of the ``plain`` requests (with their vectors) read as ``read_plain``, the
    share given a style, the share read as naming none (NO_STYLE), and the share rephrased, with those readings, as
    a caption that names a style. A reading of None is "not known"."""
    styles = dict(zip(plain, read_plain))
    captions = index.rephrase(list(plain), plain_vectors, styles.__getitem__) if index.captions else []
    return {
        "read_right": float(np.mean([r == row["style"] for r, row in zip(read, rows)])),
        "read_wrong": float(np.mean([r not in (None, NO_STYLE, row["style"]) for r, row in zip(read, rows)])),
        "plain_given_a_style": float(np.mean([r not in (None, NO_STYLE) for r in read_plain])),
        "plain_read_as_naming_none": float(np.mean([r == NO_STYLE for r in read_plain])),
        "plain_rephrased_with_a_style": (float(np.mean([named_style(c) not in (None, "normal") for c in captions]))
                                         if captions else None)}
