"""A readable account of a load: detected mapping, row counts, drops and feature ranges."""

from __future__ import annotations

import numpy as np

from recommender.ingest.loader import LoadResult


def describe(result: LoadResult) -> str:
    report, schema, catalog = result.report, result.schema, result.catalog
    lines = [f"schema: {schema.name}", "mapping:"]
    lines += [f"  {role:<18} <- {source}" for role, source in schema.mapping.items()]
    if schema.derives_ids:
        lines.append("  track_id           <- derived from normalised name+artist")
    lines += [
        f"labels: {', '.join(result.label_columns) or '(none)'} (duplicates keep all, '|'-joined)",
        f"rows read: {report.rows_read}",
        f"dropped, missing features: {report.missing_features}",
        f"dropped, out of range: {report.rejected_out_of_range}",
    ]
    lines += [f"  {name}: {count}" for name, count in report.out_of_range.items()]
    if report.imputed:
        lines.append("extras filled with the catalog median (missing or invalid):")
        lines += [f"  {name}: {count}" for name, count in report.imputed.items()]
    lines += [
        f"merged, same track id: {report.duplicate_track_ids}",
        f"rows kept: {report.rows_kept} ({len(catalog.canonical_rows)} songs; "
        f"{report.duplicate_songs} rows repeat a name+artist and are searched once)",
        "feature ranges (kept rows):",
    ]
    for j, name in enumerate(catalog.feature_names):
        column = catalog.features[:, j] if len(catalog) else np.zeros(1, np.float32)
        lines.append(
            f"  {name:<18} min {column.min():>10.4g}  mean {column.mean():>10.4g}  "
            f"max {column.max():>10.4g}"
        )
    return "\n".join(lines)
