"""`supervised`: a torch network trained on label columns, served as numpy arrays.

One shared trunk of ReLU layers over the (optionally quantile-normal) standardised features,
one softmax head per label column (a genre column, and optionally finer ones such as a
subgenre). Targets are soft: a song with several labels (`"pop|edm"`) spreads its target evenly
over them, a song without a label in a column adds nothing to that head's loss, and a label
held by a single song is just a class. Trained with Adam on cross-entropy, early stopping on a
validation share of the songs; seeded and single-threaded, so the same data, options and seed
give the same weights. `members` such networks are trained, with seeds `seed`, `seed + 1`, ...,
and served as the mean of their predictions. The served embedding is
`recommender.embeddings.supervised`.

Never train it on the label of a song it is evaluated on as a query (`recommender.evaluation`
hides the queries' labels from it, or with a train fraction trains it on a disjoint share).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from recommender.build import build
from recommender.catalog import Catalog
from recommender.embeddings.layers import Layers
from recommender.embeddings.quantiles import QuantileNormal
from recommender.embeddings.supervised import SupervisedEmbedding, label_targets
from recommender.errors import ConfigurationError
from recommender.recommender import Recommender, TrainingCurve
from recommender.training.threads import single_thread

__all__ = ["LabelNetwork", "fit", "label_targets", "train_supervised"]


@dataclass(frozen=True)
class Targets:
    """One label column's soft targets over the training songs."""

    column: str
    names: list[str]
    values: np.ndarray  # (n, n_labels) float32; a labelled row sums to 1, an unlabelled to 0


class LabelNetwork(nn.Module):
    """Trunk of Linear+ReLU(+Dropout) layers, then one Linear head (logits) per label column."""

    def __init__(
        self, n_features: int, hidden: Sequence[int], n_labels: Sequence[int], dropout: float
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        self.trunk = nn.Sequential(*layers)
        self.heads = nn.ModuleList(nn.Linear(width, n) for n in n_labels)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        hidden = self.trunk(x)
        return [head(hidden) for head in self.heads]

    def export(
        self,
        weight: float,
        geometry: str,
        inputs: QuantileNormal | None,
        labels: Sequence[Sequence[str]] = (),
        columns: Sequence[str] = (),
        members: Sequence[LabelNetwork] = (),
        artist_prior: float = 0.0,
    ) -> SupervisedEmbedding:
        """The served form; `members`: more networks of the same shape, whose predictions
        are averaged with this one's."""
        names = tuple(tuple(n) for n in labels)
        trunk, heads = self.layers()
        return SupervisedEmbedding(
            trunk,
            heads,
            weight,
            geometry,
            inputs,
            names,
            tuple(columns),
            tuple(member.layers() for member in members),
            artist_prior,
        )

    def layers(self) -> tuple[Layers, Layers]:
        """(trunk, heads) as numpy arrays."""
        trunk = [m for m in self.trunk if isinstance(m, nn.Linear)]
        heads = [m for m in self.heads if isinstance(m, nn.Linear)]
        return _arrays(trunk), _arrays(heads)


def _arrays(linears: Sequence[nn.Linear]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    weights = tuple(np.asarray(m.weight.detach().numpy().T, np.float32).copy() for m in linears)
    biases = tuple(np.asarray(m.bias.detach().numpy(), np.float32).copy() for m in linears)
    return weights, biases


def fit(
    scaled: np.ndarray, catalog: Catalog, options: dict[str, Any], progress: bool
) -> tuple[SupervisedEmbedding, TrainingCurve]:
    """The registry's fitting function for `supervised`: one row per song, its label columns."""
    songs = catalog.canonical_rows
    columns = [options["label_column"], *options["extra_label_columns"]]
    targets = []
    for column in columns:
        values, names = label_targets(catalog.labels(column)[songs])
        if len(names) < 2:
            raise ConfigurationError(
                f"the supervised model needs at least two distinct labels in {column!r} "
                f"to train on, found {len(names)}"
            )
        labelled_songs = int((values.sum(axis=1) > 0).sum())
        if 2 * len(names) > labelled_songs:
            # Fewer than two songs per label: an id or a title, not a genre; nothing to
            # generalise from, and an embedding as wide as the catalog.
            raise ConfigurationError(
                f"{column!r} has {len(names)} distinct labels over {labelled_songs} labelled "
                "songs (fewer than two songs per label): it looks like an identifier, not a "
                "genre or mood column"
            )
        targets.append(Targets(column, names, values))
    labelled = np.flatnonzero(np.any([t.values.sum(axis=1) > 0 for t in targets], axis=0))
    x = scaled[songs][labelled]
    return train_network(x, [t.values[labelled] for t in targets], options, progress, targets)


def train_network(
    x: np.ndarray,
    targets: list[np.ndarray],
    options: dict[str, Any],
    progress: bool,
    described: Sequence[Targets] = (),
) -> tuple[SupervisedEmbedding, TrainingCurve]:
    """Fit `members` networks (seeds `seed`, `seed + 1`, ...) on features (n, d) and soft
    targets, each keeping its best validation epoch; served as the mean of their predictions.
    The curve is the first member's."""
    started = time.perf_counter()
    seed = int(options["seed"])
    inputs = QuantileNormal.fit(x) if options["quantile_inputs"] and len(x) > 1 else None
    mapped = inputs.transform(x) if inputs is not None else x
    data = torch.from_numpy(np.ascontiguousarray(mapped, dtype=np.float32))
    labels = [torch.from_numpy(np.ascontiguousarray(t, dtype=np.float32)) for t in targets]
    n_members = int(options["members"])
    if n_members < 1:
        raise ConfigurationError(f"members must be at least 1, got {n_members}")
    fitted = [
        _fit_member(data, labels, options, seed + m, progress, f"member {m + 1}/{n_members}")
        for m in range(n_members)
    ]
    networks = [network for network, _ in fitted]
    embedding = networks[0].export(
        float(options["weight"]),
        str(options["geometry"]),
        inputs,
        [t.names for t in described],
        [t.column for t in described],
        members=networks[1:],
        artist_prior=float(options["artist_prior"]),
    )
    extra = {
        "loss": "cross-entropy",
        "training_songs": len(x),
        "labels": {t.column: t.names for t in described},
        "members": n_members,
        "best_epochs": [curve[2] for _, curve in fitted],
    }
    seconds = time.perf_counter() - started
    train_curve, val_curve, best_epoch = fitted[0][1]
    return embedding, TrainingCurve(train_curve, val_curve, best_epoch, seconds, extra)


def _fit_member(
    data: torch.Tensor,
    labels: list[torch.Tensor],
    options: dict[str, Any],
    seed: int,
    progress: bool,
    name: str,
) -> tuple[LabelNetwork, tuple[tuple[float, ...], tuple[float, ...], int]]:
    """One network, seeded (its weights, its validation share, its batches), at its best
    validation epoch; and its (train, validation) loss curves and that epoch."""
    with single_thread():
        torch.manual_seed(seed)
        train, val = _split(len(data), float(options["validation_split"]), seed)
        network = LabelNetwork(
            data.shape[1],
            options["hidden"],
            [t.shape[1] for t in labels],
            float(options["dropout"]),
        )
        optimiser = torch.optim.Adam(
            network.parameters(),
            lr=float(options["learning_rate"]),
            weight_decay=float(options["weight_decay"]),
        )
        shuffle = torch.Generator().manual_seed(seed)
        train_curve: list[float] = []
        val_curve: list[float] = []
        best, best_epoch, best_state = float("inf"), 0, copy.deepcopy(network.state_dict())
        epochs = tqdm(
            range(int(options["epochs"])), desc=f"{name} epochs", leave=False, disable=not progress
        )
        for epoch in epochs:
            _epoch(network, optimiser, data[train], [t[train] for t in labels], options, shuffle)
            train_curve.append(_loss(network, data[train], [t[train] for t in labels]))
            if len(val):
                val_curve.append(_loss(network, data[val], [t[val] for t in labels]))
            watched = val_curve[-1] if len(val) else train_curve[-1]
            epochs.set_postfix(train=f"{train_curve[-1]:.4f}", val=f"{watched:.4f}")
            if watched < best:
                best, best_epoch = watched, epoch
                best_state = copy.deepcopy(network.state_dict())
            elif epoch - best_epoch >= int(options["patience"]):
                break
        epochs.close()
        network.load_state_dict(best_state)
        network.eval()
    return network, (tuple(train_curve), tuple(val_curve), best_epoch)


def _split(n: int, share: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    n_val = round(n * share)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1))
    if n_val == 0 or n_val >= n:
        return order, order[:0]
    return order[n_val:], order[:n_val]


def _soft_cross_entropy(logits: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Sum over heads of the mean cross-entropy over the rows labelled in that head."""
    total = torch.zeros(())
    for head, target in zip(logits, targets, strict=True):
        per_row = -(target * torch.log_softmax(head, dim=1)).sum(dim=1)
        labelled = target.sum(dim=1) > 0
        if labelled.any():
            total = total + per_row[labelled].mean()
    return total


def _epoch(
    network: LabelNetwork,
    optimiser: torch.optim.Optimizer,
    data: torch.Tensor,
    targets: list[torch.Tensor],
    options: dict[str, Any],
    generator: torch.Generator,
) -> None:
    network.train()
    order = torch.randperm(len(data), generator=generator)
    batch_size = int(options["batch_size"])
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        optimiser.zero_grad()
        loss = _soft_cross_entropy(network(data[batch]), [t[batch] for t in targets])
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()


def _loss(network: LabelNetwork, data: torch.Tensor, targets: list[torch.Tensor]) -> float:
    network.eval()
    with torch.no_grad():
        return float(_soft_cross_entropy(network(data), targets))


def train_supervised(catalog: Catalog, *, options: dict[str, Any] | None = None) -> Recommender:
    """Fit on `catalog`'s labels (one row per song) and return a recommender over it."""
    return build("supervised", catalog, options)
