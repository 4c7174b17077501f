"""The `supervised` model's served form: label distributions beside the features.

A small network trained on label columns (`recommender.training.supervised`, torch) predicts,
per column, a distribution over its labels (an ensemble of such networks, trained with other
seeds, predicts the mean of theirs). Each song is embedded as

    [standardised features, weight * block(column_1), weight * block(column_2), ...]

in one of three geometries (the `geometry` option):

- `labels` (the default): a block is a distribution q over the column's labels plus one
  coordinate `sqrt(1 - |q|^2)` that gives every catalog song's block the same length. A
  catalog song with a label is placed by its label (the column the model was trained on says
  what it is: why guess); a song without one, a feature seed and a song added later by the
  network's prediction. A query block is the seed's distribution p with that last coordinate
  zeroed (`query`), so the squared distance from a query to a song is
  `|p|^2 + 1 - 2 p.q`: songs rank by the probability that they share the seed's label, then
  by sound. A catalog song without a label whose artist has labelled songs is placed between
  the prediction and its artist's labels (`artist_prior`: the prediction counts as that many
  of the artist's songs; 0: the prediction alone): an artist's songs mostly share a genre.
- `hellinger`: square roots of the predicted probabilities, the same for queries and songs;
  the distance between two blocks is (sqrt 2 times) their Hellinger distance.
- `probabilities`: the predicted probabilities themselves.

Served as numpy (`layers.forward`), so no torch here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.embeddings.layers import Layers, forward, layers_from_state, layers_state
from recommender.embeddings.quantiles import QuantileNormal
from recommender.errors import ConfigurationError
from recommender.ingest.cleaning import split_labels

__all__ = ["GEOMETRIES", "SupervisedEmbedding", "label_targets", "softmax"]

GEOMETRIES = ("labels", "hellinger", "probabilities")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (each row's), stable for large logits."""
    shifted: np.ndarray = logits - logits.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


def label_targets(
    values: Sequence[object], names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Soft targets: each label of a song gets an equal share; unlabelled songs get zeros.

    Over `names` when given (labels outside them are ignored), else over every label seen."""
    sets = [split_labels(v) for v in values]
    if names is None:
        names = sorted(set().union(*sets)) if sets else []
    position = {name: j for j, name in enumerate(names)}
    targets = np.zeros((len(sets), len(names)), dtype=np.float32)
    for i, labels in enumerate(sets):
        known = [position[label] for label in labels if label in position]
        if known:
            targets[i, known] = 1.0 / len(known)
    return targets, list(names)


@dataclass(frozen=True)
class SupervisedEmbedding:
    """A trunk of dense ReLU layers, one softmax head per label column, and the block weight."""

    trunk: Layers  # (weights (in, out), biases): ReLU after every layer
    heads: Layers  # one (hidden, n_labels) layer per label column
    weight: float  # of each probability block against the unit-variance features
    geometry: str = "labels"  # see the module docstring
    inputs: QuantileNormal | None = None  # the network's input map (the feature block is not)
    labels: tuple[tuple[str, ...], ...] = ()  # each head's label names, in its output order
    columns: tuple[str, ...] = ()  # each head's label column (empty: saved before they were)
    # More (trunk, heads) of the same shape, trained with other seeds: the predictions are
    # the mean over all of them (empty: one network, as saved before ensembles).
    members: tuple[tuple[Layers, Layers], ...] = ()
    # How many of an unlabelled song's artist's labelled songs its prediction counts as (see
    # the module docstring; 0: not used, as saved before it was).
    artist_prior: float = 0.0

    def __post_init__(self) -> None:
        if self.geometry not in GEOMETRIES:
            raise ConfigurationError(
                f"geometry must be one of {', '.join(GEOMETRIES)}, got {self.geometry!r}"
            )

    @property
    def padded(self) -> bool:
        return self.geometry == "labels"

    def probabilities(self, scaled: np.ndarray) -> list[np.ndarray]:
        """P(label | features) per label column: (n, n_labels) each, the mean over the
        networks."""
        x = np.asarray(scaled, dtype=np.float32)
        if self.inputs is not None:
            x = self.inputs.transform(x)
        # Every network at once, through its layers stacked: (networks, n, width), one matmul
        # call per layer instead of one per layer and network.
        trunk, heads = self._stacked
        hidden = forward(x, trunk, relu_last=True)  # no trunk: x, softmax regression
        return [softmax(hidden @ w + b).mean(axis=0) for w, b in zip(*heads, strict=True)]

    @functools.cached_property
    def _stacked(self) -> tuple[Layers, Layers]:
        """Trunk and heads with every network's layer stacked: weights (networks, in, out),
        biases (networks, 1, out)."""
        networks = ((self.trunk, self.heads), *self.members)

        def stack(part: int) -> Layers:
            layers = [network[part] for network in networks]
            depth = len(layers[0][0])
            return (
                tuple(np.stack([ws[i] for ws, _ in layers]) for i in range(depth)),
                tuple(np.stack([bs[i] for _, bs in layers])[:, None, :] for i in range(depth)),
            )

        return stack(0), stack(1)

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        """Songs placed by the network's predictions."""
        return self.encode(scaled, [None] * len(self.heads[0]))

    def encode(
        self,
        scaled: np.ndarray,
        targets: Sequence[np.ndarray | None],
        artists: Sequence[str] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Songs placed by their own labels where `targets` (one (n, n_labels) array or None
        per column, see `label_targets`) has any, by the predictions elsewhere (moved towards
        their artist's labels, with `artists`: one per song). Only the `labels` geometry uses
        the labels."""
        scaled = np.asarray(scaled, dtype=np.float32)
        codes = None  # the artists as integers, worked out once for every column
        if self.padded and artists is not None and self.artist_prior > 0:
            codes = artist_codes(artists)
        blocks = []
        for p, known in zip(self.probabilities(scaled), targets, strict=True):
            if self.padded:
                if known is not None:
                    labelled = known.sum(axis=1) > 0
                    if codes is not None:
                        p = by_artist(p, known, labelled, codes, self.artist_prior)
                    p[labelled] = known[labelled]
                rest = np.sqrt(np.maximum(1.0 - (p * p).sum(axis=1, keepdims=True), 0.0))
                blocks.append(np.hstack([p, rest]))
            else:
                blocks.append(np.sqrt(p) if self.geometry == "hellinger" else p)
        return np.hstack([scaled, *(self.weight * b for b in blocks)]).astype(np.float32)

    def place(
        self,
        scaled: np.ndarray,
        values: Mapping[str, Sequence[object]],
        artists: Sequence[str] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Songs placed by their labels in `values` (label column -> one value per song, e.g.
        a catalog's extra columns), where they have one the model knows; see `encode`."""
        if not self.columns:
            return self.transform(scaled)
        targets = [
            label_targets(values[column], names)[0] if column in values else None
            for column, names in zip(self.columns, self.labels, strict=True)
        ]
        return self.encode(scaled, targets, artists)

    def query_zeroed(self, n_features: int) -> np.ndarray:
        """The coordinates a query leaves at zero (the `labels` geometry's length terms)."""
        if not self.padded:
            return np.empty(0, np.int64)
        ends = n_features + np.cumsum([w.shape[1] + 1 for w in self.heads[0]])
        return (ends - 1).astype(np.int64)

    def tied_columns(self, n_features: int) -> np.ndarray:
        """The coordinates catalog songs with the same labels share exactly (the `labels`
        geometry's blocks, length terms included; see `recommender.shaping.spread`)."""
        if not self.padded:
            return np.empty(0, np.int64)
        width = sum(w.shape[1] + 1 for w in self.heads[0])
        return np.arange(n_features, n_features + width, dtype=np.int64)

    def state(self) -> dict[str, np.ndarray]:
        state = {
            **layers_state("supervised.trunk", self.trunk),
            **layers_state("supervised.heads", self.heads),
            "supervised.weight": np.array([self.weight], dtype=np.float32),
            # 1: hellinger (the only geometry of artifacts from before `labels`), 0: not.
            "supervised.sqrt": np.array([int(self.geometry == "hellinger")], dtype=np.int64),
            "supervised.geometry": np.array([GEOMETRIES.index(self.geometry)], dtype=np.int64),
            "supervised.artist_prior": np.array([self.artist_prior], dtype=np.float32),
        }
        for m, (trunk, heads) in enumerate(self.members, start=1):
            state.update(layers_state(f"supervised.members.{m}.trunk", trunk))
            state.update(layers_state(f"supervised.members.{m}.heads", heads))
        for i, names in enumerate(self.labels):
            state[f"supervised.labels.{i}"] = _text("\n".join(names))
        if self.columns:
            state["supervised.columns"] = _text("\n".join(self.columns))
        if self.inputs is not None:
            state.update(self.inputs.state("supervised.inputs"))
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> SupervisedEmbedding:
        if "supervised.geometry" in state:
            geometry = GEOMETRIES[int(state["supervised.geometry"][0])]
        else:
            geometry = "hellinger" if bool(state["supervised.sqrt"][0]) else "probabilities"
        heads = layers_from_state("supervised.heads", state)
        labels = tuple(
            tuple(_lines(state[f"supervised.labels.{i}"]))
            for i in range(len(heads[0]))
            if f"supervised.labels.{i}" in state
        )
        columns = (
            tuple(_lines(state["supervised.columns"])) if "supervised.columns" in state else ()
        )
        members: list[tuple[Layers, Layers]] = []
        while f"supervised.members.{len(members) + 1}.heads.0.weight" in state:
            prefix = f"supervised.members.{len(members) + 1}"
            members.append(
                (
                    layers_from_state(f"{prefix}.trunk", state),
                    layers_from_state(f"{prefix}.heads", state),
                )
            )
        return cls(
            layers_from_state("supervised.trunk", state),
            heads,
            float(state["supervised.weight"][0]),
            geometry,
            QuantileNormal.from_state(state, "supervised.inputs"),
            labels,
            columns if len(columns) == len(labels) else (),
            tuple(members),
            float(state["supervised.artist_prior"][0])
            if "supervised.artist_prior" in state
            else 0.0,
        )


def artist_codes(artists: Sequence[str] | np.ndarray) -> np.ndarray:
    """Each song's artist as an integer, artists matched trimmed and case-folded; -1 for a
    song without one."""
    names = np.array([str(a).strip().casefold() for a in artists])
    _, codes = np.unique(names, return_inverse=True)
    return np.where(names == "", -1, codes.reshape(-1))


def by_artist(
    p: np.ndarray, known: np.ndarray, labelled: np.ndarray, codes: np.ndarray, prior: float
) -> np.ndarray:
    """Predictions `p` (n, n_labels) of the unlabelled songs whose artist (`codes`, from
    `artist_codes`) has labelled songs, moved to `(prior * p + sum of those songs' labels) /
    (prior + their count)`: the mean of the artist's labels, with the prediction counting as
    `prior` songs. A song without an artist keeps its prediction."""
    if len(codes) != len(p):
        raise ValueError(f"{len(codes)} artists for {len(p)} songs")
    evidence = labelled & (codes >= 0)
    if not evidence.any():
        return p
    sums = np.zeros((int(codes.max()) + 1, p.shape[1]), np.float64)
    np.add.at(sums, codes[evidence], known[evidence])
    counts = np.bincount(codes[evidence], minlength=len(sums)).astype(np.float64)
    moved = ~labelled & (codes >= 0) & (counts[np.maximum(codes, 0)] > 0)
    if not moved.any():
        return p
    p = p.copy()
    at = codes[moved]
    p[moved] = (prior * p[moved] + sums[at]) / (prior + counts[at])[:, None]
    return p


def _text(value: str) -> np.ndarray:
    """Text as a uint8 array (safetensors holds arrays only)."""
    return np.frombuffer(value.encode("utf-8"), dtype=np.uint8).copy()


def _lines(array: np.ndarray) -> list[str]:
    return bytes(np.asarray(array, dtype=np.uint8)).decode("utf-8").split("\n")
