"""A/B variants: `--variant NAME=MODEL[:SHARE]` splits listeners by a stable hash of user_id.

The hash is the first 8 bytes of BLAKE2b of the user id, as a fraction of 2**64: the same
listener lands in the same variant on every instance and every restart, and adding a variant
at the end moves only the listeners of the shares that shrank. Shares not given split what
the given ones leave equally; without any --variant every listener is in `default`, served
by the default model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from recommender.errors import ConfigurationError

DEFAULT_VARIANT = "default"


@dataclass(frozen=True)
class Variant:
    name: str
    model: str
    share: float


def parse_variant(text: str) -> tuple[str, str, float | None]:
    """`NAME=MODEL[:SHARE]` -> (name, model, share or None)."""
    name, sep, rest = text.partition("=")
    model, _, share = rest.partition(":")
    if not sep or not name.strip() or not model.strip():
        raise ConfigurationError(f"--variant: {text!r} is not NAME=MODEL[:SHARE]")
    if not share:
        return name.strip(), model.strip(), None
    try:
        value = float(share)
    except ValueError:
        raise ConfigurationError(f"--variant: share {share!r} of {name} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise ConfigurationError(f"--variant: share of {name} must be in (0, 1], got {value}")
    return name.strip(), model.strip(), value


class Variants:
    def __init__(self, specs: list[str], models: list[str]) -> None:
        parsed = [parse_variant(spec) for spec in specs]
        names = [name for name, _, _ in parsed]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"--variant: names must differ, got {names}")
        for name, model, _ in parsed:
            if model not in models:
                raise ConfigurationError(
                    f"--variant: {name} serves {model!r}, which is not in --models {models}"
                )
        given = sum(share for _, _, share in parsed if share is not None)
        unset = [name for name, _, share in parsed if share is None]
        if given > 1.0 + 1e-9 or (not unset and parsed and abs(given - 1.0) > 1e-6):
            raise ConfigurationError(f"--variant: the shares must add up to 1, got {given:g}")
        rest = (1.0 - given) / len(unset) if unset else 0.0
        self.variants = [
            Variant(name, model, rest if share is None else share) for name, model, share in parsed
        ] or [Variant(DEFAULT_VARIANT, models[0], 1.0)]
        self.configured = bool(parsed)
        bounds, total = [], 0.0
        for variant in self.variants:
            total += variant.share
            bounds.append(total)
        self._bounds = bounds
        self._memo: dict[str, Variant] = {}

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variants]

    def of(self, user_id: str) -> Variant:
        """The listener's variant."""
        found = self._memo.get(user_id)
        if found is not None:
            return found
        if len(self.variants) == 1:
            found = self.variants[0]
        else:
            digest = hashlib.blake2b(user_id.encode(), digest_size=8).digest()
            point = int.from_bytes(digest, "big") / 2.0**64
            found = next(
                (v for v, b in zip(self.variants, self._bounds, strict=True) if point < b),
                self.variants[-1],
            )
        if len(self._memo) > 1_000_000:  # bounded: a memo, not a registry
            self._memo.clear()
        self._memo[user_id] = found
        return found
