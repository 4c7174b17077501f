"""The autoencoder: it learns, it is reproducible, it stops early, and numpy serves it exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_catalogs import grouped_catalog

from recommender.embeddings.encoder import AutoencoderConfig, EncoderEmbedding
from recommender.embeddings.quantiles import QuantileNormal
from recommender.scaling import Standardizer
from recommender.training.autoencoder import build_network, export_encoder, train_autoencoder


@pytest.fixture(scope="module")
def scaled():
    catalog = grouped_catalog(groups=5, per_group=40, spread=0.05)
    return Standardizer.fit(catalog.features).transform(catalog.features)


CONFIG = AutoencoderConfig(epochs=40, batch_size=32, learning_rate=0.01, seed=3)


def test_training_lowers_the_reconstruction_error(scaled):
    _, curve = train_autoencoder(scaled, CONFIG)
    assert len(curve.train) == len(curve.validation) > 1
    assert min(curve.train) < 0.5 * curve.train[0]
    assert curve.validation[curve.best_epoch] == min(curve.validation)
    assert curve.seconds > 0


def test_same_seed_same_weights_other_seed_other_weights(scaled):
    first, curve_a = train_autoencoder(scaled, CONFIG)
    second, curve_b = train_autoencoder(scaled, CONFIG)
    for a, b in zip(first.weights + first.biases, second.weights + second.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    assert curve_a.train == curve_b.train
    other, _ = train_autoencoder(scaled, AutoencoderConfig(**{**vars(CONFIG), "seed": 4}))
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_training_leaves_torch_thread_count_alone(scaled):
    before = torch.get_num_threads()
    train_autoencoder(scaled, AutoencoderConfig(epochs=1))
    assert torch.get_num_threads() == before


def test_early_stopping_after_patience_without_improvement(scaled):
    # With a zero learning rate the validation error never improves on the first epoch.
    config = AutoencoderConfig(epochs=100, learning_rate=0.0, patience=4)
    _, curve = train_autoencoder(scaled, config)
    assert len(curve.train) == config.patience + 1
    assert curve.best_epoch == 0


def test_without_validation_split_the_training_error_is_watched(scaled):
    _, curve = train_autoencoder(scaled, AutoencoderConfig(epochs=5, validation_split=0.0))
    assert curve.validation == ()
    assert len(curve.train) == 5


@pytest.mark.parametrize("relu_latent", [False, True])
def test_numpy_encoder_matches_torch(scaled, relu_latent):
    config = AutoencoderConfig(
        hidden=(16, 8), latent_dim=3, relu_latent=relu_latent, input_dropout=0.0
    )
    torch.manual_seed(0)
    encoder, decoder = build_network(scaled.shape[1], config)
    exported = export_encoder(encoder, relu_latent)
    with torch.no_grad():
        expected = encoder(torch.from_numpy(scaled)).numpy()
    np.testing.assert_allclose(exported.transform(scaled), expected, rtol=1e-5, atol=1e-6)
    assert [w.shape for w in exported.weights] == [(9, 16), (16, 8), (8, 3)]
    assert decoder(torch.zeros(1, 3)).shape == (1, 9)


def test_numpy_encoder_with_quantile_inputs_matches_torch_in_eval_mode(scaled):
    config = AutoencoderConfig(input_dropout=0.5)
    inputs = QuantileNormal.fit(scaled)
    torch.manual_seed(0)
    encoder, _ = build_network(scaled.shape[1], config)
    assert isinstance(encoder[0], torch.nn.Dropout)
    exported = export_encoder(encoder, relu_latent=False, inputs=inputs)
    encoder.eval()  # dropout only masks inputs in training
    with torch.no_grad():
        expected = encoder(torch.from_numpy(inputs.transform(scaled))).numpy()
    np.testing.assert_allclose(exported.transform(scaled), expected, rtol=1e-5, atol=1e-6)


def test_encoder_state_round_trip(scaled):
    encoder, _ = train_autoencoder(scaled, AutoencoderConfig(epochs=2, relu_latent=True))
    again = type(encoder).from_state(encoder.state())
    np.testing.assert_array_equal(again.transform(scaled), encoder.transform(scaled))
    assert again.relu_latent
    assert again.inputs is not None


def test_defaults_and_the_original_network():
    # Defaults by mean rank across the development catalogs (docs/quality.md); the issue's
    # original input -> 12 -> 6 network on standardised features stays one set of options away.
    default = AutoencoderConfig()
    assert (default.hidden, default.latent_dim, default.latent_for(9)) == ((128,), None, 8)
    assert default.quantile_inputs and default.input_dropout == 0.1
    assert default.keep_features and default.latent_weight == 1.0
    original = AutoencoderConfig(
        hidden=(12,), latent_dim=6, quantile_inputs=False, input_dropout=0.0, keep_features=False
    )
    encoder, decoder = build_network(9, original)
    assert [m.out_features for m in encoder if isinstance(m, torch.nn.Linear)] == [12, 6]
    assert not any(isinstance(m, torch.nn.Dropout) for m in encoder)
    assert decoder(torch.zeros(1, 6)).shape == (1, 9)


@pytest.mark.parametrize(
    "bad",
    [
        {"latent_dim": 0},
        {"hidden": (0,)},
        {"epochs": 0},
        {"validation_split": 1.0},
        {"input_dropout": 1.0},
    ],
)
def test_config_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        AutoencoderConfig(**bad)


def test_the_features_sit_beside_a_latent_of_unit_spread(scaled):
    beside, _ = train_autoencoder(scaled, AutoencoderConfig(epochs=3))
    embedded = beside.transform(scaled)
    assert beside.keep_features and embedded.shape == (len(scaled), 9 + 8)
    np.testing.assert_allclose(embedded[:, :9], scaled, atol=1e-6)
    assert embedded[:, 9:].std(axis=0).mean() == pytest.approx(1.0, rel=1e-3)
    again = EncoderEmbedding.from_state(beside.state())
    np.testing.assert_allclose(again.transform(scaled), embedded, atol=1e-6)
    alone, _ = train_autoencoder(scaled, AutoencoderConfig(epochs=3, keep_features=False))
    assert alone.transform(scaled).shape == (len(scaled), 8)
    with pytest.raises(ValueError, match="latent_weight"):
        AutoencoderConfig(latent_weight=0.0)
