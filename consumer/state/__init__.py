"""Per-listener state: the local store, its changelog, and what a batch does with them."""
