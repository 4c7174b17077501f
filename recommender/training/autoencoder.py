"""Autoencoder training in torch; the result is served as numpy (`recommender.embeddings.encoder`).

Training is seeded and single-threaded, so the same data, config and seed give the same
weights. Serving needs no torch: the encoder's layers are exported as (weight, bias) arrays.
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from recommender.embeddings.encoder import AutoencoderConfig, EncoderEmbedding
from recommender.embeddings.quantiles import QuantileNormal
from recommender.recommender import TrainingCurve
from recommender.training.threads import single_thread

if TYPE_CHECKING:
    from recommender.catalog import Catalog


def build_network(
    n_features: int, config: AutoencoderConfig
) -> tuple[nn.Sequential, nn.Sequential]:
    """(encoder, decoder): mirrored stacks of Linear layers; the encoder starts with input
    dropout when the config asks for it (active in training only)."""
    sizes = [n_features, *config.hidden, config.latent_for(n_features)]
    encoder = _stack(sizes, config.relu_latent)
    if config.input_dropout > 0:
        encoder.insert(0, nn.Dropout(config.input_dropout))
    return encoder, _stack(sizes[::-1], last_relu=False)


def _stack(sizes: list[int], last_relu: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def export_encoder(
    encoder: nn.Sequential, relu_latent: bool, inputs: QuantileNormal | None = None
) -> EncoderEmbedding:
    linears = [m for m in encoder if isinstance(m, nn.Linear)]
    return EncoderEmbedding(
        tuple(m.weight.detach().numpy().T.copy() for m in linears),
        tuple(m.bias.detach().numpy().copy() for m in linears),
        relu_latent,
        inputs,
    )


def fit(
    scaled: np.ndarray, catalog: Catalog, options: dict[str, Any], progress: bool
) -> tuple[EncoderEmbedding, TrainingCurve]:
    """The registry's fitting function for `autoencoder` (options: `AutoencoderConfig`)."""
    known = {f.name for f in fields(AutoencoderConfig)}
    config = AutoencoderConfig(**{k: v for k, v in options.items() if k in known})
    return train_autoencoder(scaled, config, progress=progress)


def train_autoencoder(
    scaled: np.ndarray, config: AutoencoderConfig, progress: bool = False
) -> tuple[EncoderEmbedding, TrainingCurve]:
    """Fit on standardised features (n, d); keep the weights of the best validation epoch.

    With `quantile_inputs` the network sees (and the curve measures) quantile-normal features.
    """
    started = time.perf_counter()
    inputs = QuantileNormal.fit(scaled) if config.quantile_inputs else None
    with single_thread():
        torch.manual_seed(config.seed)
        mapped = inputs.transform(scaled) if inputs is not None else scaled
        data = torch.from_numpy(np.ascontiguousarray(mapped, dtype=np.float32))
        train, val = _split(data, config.validation_split, config.seed)
        encoder, decoder = build_network(data.shape[1], config)
        model = nn.Sequential(encoder, decoder)
        optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        shuffle = torch.Generator().manual_seed(config.seed)
        train_curve: list[float] = []
        val_curve: list[float] = []
        best, best_epoch, best_state = float("inf"), 0, copy.deepcopy(model.state_dict())
        epochs = tqdm(range(config.epochs), desc="epochs", leave=False, disable=not progress)
        for epoch in epochs:
            _epoch(model, optimiser, train, config.batch_size, shuffle)
            # Both curves are measured after the epoch, so they compare like with like.
            train_curve.append(_mse(model, train))
            if len(val):
                val_curve.append(_mse(model, val))
            watched = val_curve[-1] if len(val) else train_curve[-1]
            epochs.set_postfix(train=f"{train_curve[-1]:.4f}", val=f"{watched:.4f}")
            if watched < best:
                best, best_epoch, best_state = watched, epoch, copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= config.patience:
                break
        epochs.close()
        model.load_state_dict(best_state)
    curve = TrainingCurve(
        tuple(train_curve), tuple(val_curve), best_epoch, time.perf_counter() - started
    )
    exported = export_encoder(encoder, config.relu_latent, inputs)
    if not config.keep_features:
        return exported, curve
    # Beside unit-variance features, the latent at a mean spread of `latent_weight`.
    spread = float(exported.latent(scaled).std(axis=0).mean()) if len(scaled) > 1 else 1.0
    scale = config.latent_weight / spread if spread > 0 else 1.0
    return replace(exported, keep_features=True, latent_scale=scale), curve


def _split(data: torch.Tensor, share: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    n_val = round(len(data) * share)
    if n_val == 0 or n_val >= len(data):
        return data, data[:0]
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed + 1))
    return data[order[n_val:]], data[order[:n_val]]


def _epoch(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    data: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> None:
    """One pass of Adam over shuffled mini-batches."""
    model.train()
    shuffled = data[torch.randperm(len(data), generator=generator)]
    for start in range(0, len(shuffled), batch_size):
        batch = shuffled[start : start + batch_size]
        optimiser.zero_grad()
        loss = nn.functional.mse_loss(model(batch), batch)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()


def _mse(model: nn.Module, data: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return float(nn.functional.mse_loss(model(data), data))
