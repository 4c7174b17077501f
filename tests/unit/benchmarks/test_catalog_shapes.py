"""`benchmarks/catalog_shapes.py`: a smaller catalog of another shape that the loader reads as
it reads the source, headers as a spreadsheet exports them included."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.catalog_shapes import shaped
from recommender.ingest import load_catalog
from recommender.training.synthetic import generate_catalog


def test_a_shape_keeps_its_rows_and_labels_and_loads_like_its_source(tmp_path: Path) -> None:
    source = generate_catalog(600, seed=0)
    out = shaped(source, "genre", rows=200, genres=3, seed=5, unseen_headers=True)
    assert len(out) == 200 and out["Genre"].nunique() == 3
    assert "Track Id" not in out.columns and "Track Name" in out.columns
    assert shaped(source, "genre", 200, 3, 5, True).equals(out)  # seeded
    path = tmp_path / "shape.csv"
    out.to_csv(path, index=False)
    loaded = load_catalog(path, feature_names="audio", extra_label_columns=["Genre"])
    catalog = loaded.catalog
    assert len(catalog) == 200  # ids made from name and artist, none dropped
    picked = source.set_index("track_name").loc[list(catalog.names)]
    np.testing.assert_allclose(
        catalog.features[:, catalog.feature_names.index("energy")],
        picked["energy"].to_numpy(),
        rtol=1e-5,
    )
    assert set(catalog.labels("Genre").astype(str)) == set(out["Genre"])
