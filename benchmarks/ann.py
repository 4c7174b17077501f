"""Approximate nearest-neighbour libraries on Encore's embeddings, measured side by side.

For each catalog size and metric: build time, index file size, load time, batched query
throughput (batches of 1,000, k = 11, all threads) and recall@10 against exact search with the
Recommender's convention (search k + 1, drop the seed). Embeddings are the standardised
features of `generate_catalog(n)` (d = 9), or their first `--dim` principal components.

    .venv/bin/python benchmarks/ann.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recommender.features import AUDIO_FEATURES
from recommender.scaling import Standardizer
from recommender.search import HnswIndex, HnswParams
from recommender.search.exact import ExactIndex, Metric, normalise_rows
from recommender.search.recall import index_recall
from recommender.training.synthetic import generate_catalog

CACHE = Path(tempfile.gettempdir()) / "encore-ann-bench"
BATCH = 1_000
EFS = (11, 16, 24, 32, 48)
K = 10


def embeddings(n: int, dim: int, seed: int = 0) -> np.ndarray:
    features = generate_catalog(n, seed)[list(AUDIO_FEATURES)].to_numpy(np.float32)
    scaled = Standardizer.fit(features).transform(features)
    if dim < scaled.shape[1]:
        # A stand-in for a learned latent space of that size: the leading principal axes.
        _, _, axes = np.linalg.svd(scaled[:100_000], full_matrices=False)
        scaled = scaled @ axes[:dim].T
    return np.ascontiguousarray(scaled, dtype=np.float32)


class Searchable:
    """A built library index behind the `NeighbourIndex` search signature."""

    def __init__(self, metric: Metric, query: Callable[[np.ndarray, int], np.ndarray]) -> None:
        self.metric = metric
        self._query = query

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        positions = self._query(queries, k).astype(np.int64)
        return positions, np.zeros(positions.shape, np.float32)


@dataclass
class Candidate:
    """One library and build setting: build, save, load, and a query at a given ef."""

    library: str
    build_params: str
    build: Callable[[np.ndarray], Any]
    save: Callable[[Any, Path], None]
    load: Callable[[Path], Any]
    query: Callable[[Any, np.ndarray, int, int], np.ndarray]
    efs: tuple[int, ...]

    def searcher(self, index: Any, ef: int) -> Callable[[np.ndarray, int], np.ndarray]:
        return lambda queries, k: self.query(index, queries, k, ef)


def encore_candidate(metric: Metric, threads: int) -> Candidate:
    """What Encore ships: `recommender.search.hnsw.HnswIndex` with its defaults, scores included."""
    params = HnswParams()

    def query(index: HnswIndex, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        return index.search(queries, k)[0]

    return Candidate(
        "encore",
        f"M={params.m} efc={params.ef_construction}",
        lambda vectors: HnswIndex.build(vectors, metric, params, threads),
        lambda index, path: index.save(path),
        lambda path: HnswIndex.load(path, metric, threads),
        query,
        (params.ef,),
    )


def hnswlib_candidate(metric: Metric, dim: int, m: int, efc: int, threads: int) -> Candidate:
    import hnswlib

    space = "l2" if metric == "euclidean" else "cosine"

    def build(vectors: np.ndarray) -> Any:
        index = hnswlib.Index(space=space, dim=dim)
        index.init_index(len(vectors), M=m, ef_construction=efc, random_seed=0)
        index.add_items(vectors, np.arange(len(vectors)), num_threads=threads)
        return index

    def load(path: Path) -> Any:
        index = hnswlib.Index(space=space, dim=dim)
        index.load_index(str(path))
        return index

    def query(index: Any, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        index.set_ef(max(ef, k))
        return np.asarray(index.knn_query(queries, k, num_threads=threads)[0])

    return Candidate(
        "hnswlib",
        f"M={m} efc={efc}",
        build,
        lambda i, p: i.save_index(str(p)),
        load,
        query,
        EFS,
    )


def voyager_candidate(metric: Metric, dim: int, m: int, efc: int, threads: int) -> Candidate:
    import voyager

    space = voyager.Space.Euclidean if metric == "euclidean" else voyager.Space.Cosine

    def build(vectors: np.ndarray) -> Any:
        index = voyager.Index(space, dim, M=m, ef_construction=efc, random_seed=0)
        index.add_items(vectors, num_threads=threads)
        return index

    def query(index: Any, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        return np.asarray(index.query(queries, k, num_threads=threads, query_ef=max(ef, k))[0])

    return Candidate(
        "voyager",
        f"M={m} efc={efc}",
        build,
        lambda i, p: i.save(str(p)),
        lambda p: voyager.Index.load(str(p)),
        query,
        EFS,
    )


def faiss_hnsw_candidate(metric: Metric, dim: int, m: int, efc: int, threads: int) -> Candidate:
    import faiss

    faiss.omp_set_num_threads(threads)
    kind = faiss.METRIC_L2 if metric == "euclidean" else faiss.METRIC_INNER_PRODUCT

    def build(vectors: np.ndarray) -> Any:
        index = faiss.IndexHNSWFlat(dim, m, kind)
        index.hnsw.efConstruction = efc
        index.add(_prepare(vectors, metric))
        return index

    def query(index: Any, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))  # type: ignore[attr-defined]
        return np.asarray(index.search(_prepare(queries, metric), k, params=params)[1])

    return _faiss("faiss-hnsw", f"M={m} efc={efc}", build, query, EFS)


def faiss_ivf_candidate(metric: Metric, dim: int, nlist: int, threads: int) -> Candidate:
    import faiss

    faiss.omp_set_num_threads(threads)
    kind = faiss.METRIC_L2 if metric == "euclidean" else faiss.METRIC_INNER_PRODUCT

    def build(vectors: np.ndarray) -> Any:
        vectors = _prepare(vectors, metric)
        quantizer = faiss.IndexFlat(dim, kind)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, kind)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 50 * nlist))
        index.train(vectors[np.sort(sample)])
        index.add(vectors)
        return index

    def query(index: Any, queries: np.ndarray, k: int, ef: int) -> np.ndarray:
        params = faiss.SearchParametersIVF(nprobe=ef)  # type: ignore[call-arg]
        return np.asarray(index.search(_prepare(queries, metric), k, params=params)[1])

    return _faiss("faiss-ivf", f"nlist={nlist}", build, query, (2, 4, 8, 16))


def _faiss(
    name: str,
    params: str,
    build: Callable[[np.ndarray], Any],
    query: Callable[[Any, np.ndarray, int, int], np.ndarray],
    efs: tuple[int, ...],
) -> Candidate:
    import faiss

    save = lambda index, path: faiss.write_index(index, str(path))  # noqa: E731
    return Candidate(
        name, params, build, save, lambda path: faiss.read_index(str(path)), query, efs
    )


def _prepare(vectors: np.ndarray, metric: Metric) -> np.ndarray:
    return normalise_rows(vectors) if metric == "cosine" else np.ascontiguousarray(vectors)


def candidates(
    metric: Metric, dim: int, n: int, threads: int, graphs: list[tuple[int, int]]
) -> Iterator[Candidate]:
    """A small grid around the libraries' defaults, not an exhaustive sweep."""
    yield encore_candidate(metric, threads)
    for m, efc in graphs:
        yield hnswlib_candidate(metric, dim, m, efc, threads)
    for m, efc in graphs:
        yield faiss_hnsw_candidate(metric, dim, m, efc, threads)
    for m, efc in graphs:
        yield voyager_candidate(metric, dim, m, efc, threads)
    yield faiss_ivf_candidate(metric, dim, int(np.sqrt(n)), threads)


def throughput(
    search: Callable[[np.ndarray, int], object], queries: np.ndarray, repeats: int = 3
) -> tuple[float, float]:
    """Queries per wall second and per CPU second over batches of BATCH, best of `repeats`.

    The machine is shared: wall time counts other people's load, CPU time (all threads of this
    process) does not, so both are reported.
    """
    search(queries[:BATCH], K + 1)  # warm caches
    wall = cpu = float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for lo in range(0, len(queries), BATCH):
            search(queries[lo : lo + BATCH], K + 1)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return len(queries) / wall, len(queries) / cpu


def ground_truth(vectors: np.ndarray, metric: Metric, queries: np.ndarray, tag: str) -> ExactIndex:
    """Exact search over the catalog with its neighbours of `queries` cached on disk."""
    exact = ExactIndex(vectors, metric)
    path = CACHE / f"{tag}.npy"
    if path.exists():
        truth = np.load(path, allow_pickle=False)
    else:
        truth = exact.search(queries, K + 1)[0]
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, truth)
    return _Cached(exact, queries, truth)  # type: ignore[return-value]


class _Cached:
    """Exact search that answers the benchmark's queries from the cache."""

    def __init__(self, exact: ExactIndex, queries: np.ndarray, truth: np.ndarray) -> None:
        self.metric = exact.metric
        self._exact, self._queries, self._truth = exact, queries, truth

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if queries is self._queries and k <= self._truth.shape[1]:
            return self._truth[:, :k], np.zeros((len(queries), k), np.float32)
        return self._exact.search(queries, k)


def exact_sweep(sizes: list[int], args: argparse.Namespace) -> None:
    """Exact search throughput by catalog size: where it stops being fast enough."""
    for n in sizes:
        vectors = embeddings(n, args.dim)
        queries = vectors[np.random.default_rng(1).choice(n, 5 * BATCH)]
        for metric in args.metrics:
            qps = throughput(ExactIndex(vectors, metric).search, queries)
            _row(n, metric, "exact", "-", "-", (0.0, 0.0, 0.0), qps, 1.0)


def run_size(n: int, args: argparse.Namespace) -> None:
    vectors = embeddings(n, args.dim)
    rows = np.sort(np.random.default_rng(1).choice(n, args.queries, replace=False))
    queries = vectors[rows]
    for metric in args.metrics:
        exact = ground_truth(vectors, metric, queries, f"{n}-{args.dim}-{metric}-{args.queries}")
        if n <= args.exact_up_to:
            qps = throughput(ExactIndex(vectors, metric).search, queries[:2_000])
            _row(n, metric, "exact", "-", "-", (0.0, 0.0, 0.0), qps, 1.0)
        built = [
            (cand, *build_save_load(cand, vectors))
            for cand in candidates(metric, args.dim, n, args.threads, args.graphs)
            if cand.library in args.libraries
        ]
        # Time every (library, ef) in rotation, best of rounds, so a burst of someone else's
        # load on the shared machine hits all of them alike.
        best: dict[tuple[int, int], tuple[float, float]] = {}
        for _ in range(args.rounds):
            for i, (cand, index, _costs) in enumerate(built):
                for ef in cand.efs:
                    qps = throughput(cand.searcher(index, ef), queries, repeats=1)
                    old = best.get((i, ef), (0.0, 0.0))
                    best[i, ef] = (max(old[0], qps[0]), max(old[1], qps[1]))
        for i, (cand, index, costs) in enumerate(built):
            for ef in cand.efs:
                found = Searchable(metric, cand.searcher(index, ef))
                recall = index_recall(found, exact, queries, K, exclude=rows)
                _row(n, metric, cand.library, cand.build_params, ef, costs, best[i, ef], recall)
        del built


def build_save_load(cand: Candidate, vectors: np.ndarray) -> tuple[Any, tuple[float, float, float]]:
    """The loaded index and (build seconds, file MB, load seconds)."""
    start = time.perf_counter()
    built = cand.build(vectors)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.bin"
        cand.save(built, path)
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        del built
        start = time.perf_counter()
        index = cand.load(path)
        load_s = time.perf_counter() - start
    return index, (build_s, size_mb, load_s)


def _row(
    n: int,
    metric: str,
    lib: str,
    build: str,
    ef: object,
    costs: tuple[float, float, float],
    qps: tuple[float, float],
    recall: float,
) -> None:
    build_s, size_mb, load_s = costs
    print(
        f"| {n:>9,} | {metric:<9} | {lib:<10} | {build:<13} | {ef!s:>4} | {build_s:7.1f} | "
        f"{size_mb:7.1f} | {load_s:6.2f} | {qps[0]:9,.0f} | {qps[1]:9,.0f} | {recall:6.4f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--metrics", nargs="+", default=["euclidean", "cosine"])
    parser.add_argument(
        "--libraries",
        nargs="+",
        default=["encore", "hnswlib", "faiss-hnsw", "faiss-ivf", "voyager"],
    )
    parser.add_argument("--dim", type=int, default=len(AUDIO_FEATURES))
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--exact-up-to",
        type=int,
        default=200_000,
        help="also time exact search for catalogs up to this size",
    )
    parser.add_argument(
        "--exact-sweep",
        type=int,
        nargs="*",
        default=[],
        help="only time exact search at these sizes",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, best kept")
    parser.add_argument(
        "--graphs",
        type=lambda text: [tuple(map(int, g.split(":"))) for g in text.split(",")],
        default=[(12, 100)],
        help="HNSW build settings M:ef_construction, comma separated",
    )
    args = parser.parse_args()
    print(
        f"# d={args.dim}, {args.queries:,} catalog-seed queries, batches of {BATCH}, "
        f"k={K + 1} (recall@{K} without the seed), threads={args.threads}"
    )
    print(
        "| tracks | metric | library | build | ef | build s | size MB | load s | queries/s "
        "| queries/CPU-s | recall@10 |"
    )
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    if args.exact_sweep:
        exact_sweep(args.exact_sweep, args)
        return
    for n in args.sizes:
        run_size(n, args)


if __name__ == "__main__":
    main()
