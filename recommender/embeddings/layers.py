"""Dense layers held as plain arrays: their numpy forward pass and their safetensors state.

Trained networks are served from these arrays, so the hot path needs no torch.
"""

from __future__ import annotations

import numpy as np

Layers = tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]  # (weights (in, out), biases)


def forward(x: np.ndarray, layers: Layers, relu_last: bool = False) -> np.ndarray:
    """`h = relu(h @ w + b)` per layer; the last layer stays linear unless `relu_last`."""
    weights, biases = layers
    h = np.asarray(x, dtype=np.float32)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w
        h += b
        if i < len(weights) - 1 or relu_last:
            np.maximum(h, 0.0, out=h)
    return h


def layers_state(prefix: str, layers: Layers) -> dict[str, np.ndarray]:
    """`{prefix}.{i}.weight` and `{prefix}.{i}.bias` for every layer."""
    weights, biases = layers
    state = {f"{prefix}.{i}.weight": w for i, w in enumerate(weights)}
    state.update({f"{prefix}.{i}.bias": b for i, b in enumerate(biases)})
    return state


def layers_from_state(prefix: str, state: dict[str, np.ndarray]) -> Layers:
    n = sum(1 for key in state if key.startswith(f"{prefix}.") and key.endswith(".weight"))
    return (
        tuple(np.asarray(state[f"{prefix}.{i}.weight"], np.float32) for i in range(n)),
        tuple(np.asarray(state[f"{prefix}.{i}.bias"], np.float32) for i in range(n)),
    )
