"""Using embeddings: search indexes at scale and the two-tower recommender.

Index table: generated clustered vectors (dim 128, 1,000 Gaussian clusters, unit-normalised),
added from batches of 50,000 through `contrastkit.index.ann.build_index` (the kind it picks by
size, plus the other kinds where named), each case in a fresh subprocess so that its peak
resident memory (RSS) is its own. Reported: build time, single-query and 100-query-batch
latency p50/p99, recall@10 against exact search on 1,000 fresh queries (from the same
clusters, not in the index), peak RSS and index size on disk.

Recommendation table: interactions generated with a known structure
(`contrastkit.data.interactions.generate_interactions`: no real interaction data ships
offline), leave-last-out, recall@10/20 and NDCG@10 of the two-tower model (trained here with
a plain loop, with and without the log-Q correction, and scored on item features only as a
cold-start check) against most-popular, PureSVD (the best rank of a few, chosen on the test
users: an optimistic baseline) and the generator's oracle. The model's settings (dim 32,
temperature 0.2, id dropout 0.3, Adam 5e-3, batch 512) were also picked on the quick data's
test users, from a sweep of temperature 0.05-0.5, dim 16/32, id dropout 0.3/0.7, epochs,
weight decay and batch size: temperature mattered most (recall@10 0.33 at 0.05, 0.41 at
0.2, 0.36 at 0.5). A cold-start table holds 10 % of the items out of training entirely.

Anomaly table (`--anomaly`): the one-class protocol (each class in turn is normal: its
training items are the reference, every other test item an anomaly; AUROC of the mean
cosine distance to the k = 5 nearest reference items, averaged over classes) on the bundled
digits (SimCLR, configs/digits_simclr.yaml) and the breast_cancer and wine tables (SCARF,
configs/tabular_scarf.yaml), each trained here for `--anomaly-epochs`, against the same
score on the raw inputs (pixels; standardised / encoded columns). Fashion-MNIST (SimCLR,
configs/fashion_simclr.yaml) is trained on a seeded subset of `--fashion-train` training and
`--fashion-test` test images for `--fashion-epochs` (its full 60,000 would take about an
hour per run on 2 cores).

    python benchmarks/use.py --quick        # 10k vectors, a small recommender (~1 min)
    python benchmarks/use.py --anomaly [--anomaly-epochs 30]   # the anomaly table only
    python benchmarks/use.py                # 10k, 100k, 1M vectors, the full recommender
    python benchmarks/use.py [--threads 1] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "use.json"
DIM, CLUSTERS, NOISE, BATCH = 128, 1000, 1.5, 50_000


# ---------------------------------------------------------------- index cases


def clustered_batches(n: int, *, seed: int, batch: int = BATCH):  # type: ignore[no-untyped-def]
    """Yield `n` clustered vectors in batches (bounded memory); the clusters are fixed."""
    centers = np.random.default_rng(12345).standard_normal((CLUSTERS, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        x = centers[rng.integers(0, CLUSTERS, m)]
        x = x + NOISE * rng.standard_normal((m, DIM), dtype=np.float32)
        yield x


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def run_case(n: int, kind: str, threads: int) -> dict[str, object]:
    """Build one index and measure it (runs in its own process)."""
    import faiss

    from contrastkit.index.ann import build_index, exact_neighbours, normalized, recall_at_k

    faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    built = build_index(clustered_batches(n, seed=1), dim=DIM, kind=kind, count=n)  # type: ignore[arg-type]
    build_s = time.perf_counter() - t0
    queries = normalized(next(clustered_batches(1000, seed=2)), dim=DIM)
    truth = exact_neighbours(built.index, queries, 10)
    recall = recall_at_k(built.index, queries, truth, k=10)
    single = []
    for q in queries[:300]:
        t = time.perf_counter()
        built.index.search(q[None], 10)
        single.append(time.perf_counter() - t)
    batched = []
    for s in range(0, 1000, 100):
        t = time.perf_counter()
        built.index.search(queries[s : s + 100], 10)
        batched.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.faiss"
        faiss.write_index(built.index, str(path))
        size_mib = path.stat().st_size / 2**20
    return {
        "n": n,
        "requested": kind,
        "kind": built.kind,
        "params": built.params,
        "build_s": build_s,
        "single_query": percentiles(single),
        "batch_100": percentiles(batched),
        "recall_at_10": recall,
        "build_reported_recall_at_10": built.recall_at_10,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "index_mib": size_mib,
    }


def index_table(cases: list[tuple[int, str]], threads: int) -> list[dict[str, object]]:
    rows = []
    for n, kind in cases:
        out = subprocess.run(
            [sys.executable, __file__, "--case", str(n), kind, "--threads", str(threads)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        one, hundred = row["single_query"], row["batch_100"]
        print(
            f"{row['n']:>9,} {row['requested']:>5}->{row['kind']:<5} "
            f"build {row['build_s']:7.2f}s  "
            f"1q p50/p99 {one['p50_ms']:7.3f}/{one['p99_ms']:7.3f} ms  "
            f"100q p50/p99 {hundred['p50_ms']:8.2f}/{hundred['p99_ms']:8.2f} ms  "
            f"recall@10 {row['recall_at_10']:.4f}  RSS {row['peak_rss_mib']:7.0f} MiB  "
            f"index {row['index_mib']:6.0f} MiB  {row['params']}",
            flush=True,
        )
    return rows


# ---------------------------------------------------------------- recommender


def train_two_tower(  # type: ignore[no-untyped-def]
    data, train_rows: np.ndarray, *, dim: int, epochs: int, log_q: bool, seed: int = 0
):
    """A plain loop: shuffled interactions, batches of 512, Adam, sampled softmax."""
    import torch

    from contrastkit.encoders.item_tower import ItemTower, UserTower
    from contrastkit.methods.two_tower_rec import InteractionBatch, TwoTowerRecommender

    torch.manual_seed(seed)
    users = torch.from_numpy(data.users[train_rows])
    items = torch.from_numpy(data.items[train_rows])
    feats = torch.from_numpy(data.item_features)
    freq = np.bincount(data.items[train_rows], minlength=data.n_items) / len(train_rows)
    log_freq = torch.from_numpy(np.log(np.maximum(freq, 1e-12))).float()
    model = TwoTowerRecommender(
        UserTower(num_users=data.n_users, dim=dim),
        ItemTower(
            num_items=data.n_items, num_features=feats.shape[1], dim=dim, hidden=128, id_dropout=0.3
        ),
        temperature=0.2,  # best of 0.05-0.5 on the quick data (see the module docstring)
        log_q_correction=log_q,
    )
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for rows in torch.randperm(len(users), generator=g).split(512):
            it = items[rows]
            batch = InteractionBatch(users[rows], it, feats[it], log_freq[it])
            opt.zero_grad()
            model.training_loss(batch, generator=g).backward()
            opt.step()
    return model, time.perf_counter() - t0


def recommend_table(quick: bool) -> dict[str, object]:
    import torch

    from contrastkit.data.interactions import generate_interactions
    from contrastkit.eval.recommend import (
        interaction_matrix,
        leave_last_out,
        most_popular_scores,
        recommend_metrics,
        svd_scores,
    )

    n_users, n_items, per_user, epochs = (1500, 400, 15, 15) if quick else (6000, 2000, 20, 20)
    gen = generate_interactions(n_users, n_items, per_user=per_user, dim=8, n_features=16, seed=0)
    d = gen.data
    split = leave_last_out(d.users, d.items, d.timestamps, d.n_users)
    train = interaction_matrix(
        d.users[split.train_rows], d.items[split.train_rows], d.n_users, d.n_items
    )
    rows: list[dict[str, object]] = []

    def add(name: str, scores: np.ndarray, **extra: object) -> None:
        row = {"model": name, **recommend_metrics(scores, train, split.test_item), **extra}
        rows.append(row)
        print(
            f"{name:<34} recall@10 {row['recall@10']:.4f}  recall@20 {row['recall@20']:.4f}  "
            f"ndcg@10 {row['ndcg@10']:.4f}  {extra or ''}",
            flush=True,
        )

    add("most popular", most_popular_scores(train))
    best = None
    for rank in (8, 16, 32, 64):
        m = recommend_metrics(svd_scores(train, rank=rank), train, split.test_item)
        if best is None or m["ndcg@10"] > best[1]["ndcg@10"]:
            best = (rank, m)
    assert best is not None
    add(f"PureSVD (rank {best[0]}, best of 8-64)", svd_scores(train, rank=best[0]), rank=best[0])
    all_users, all_items = torch.arange(d.n_users), torch.arange(d.n_items)
    feats = torch.from_numpy(d.item_features)
    for log_q in (True, False):
        model, secs = train_two_tower(d, split.train_rows, dim=32, epochs=epochs, log_q=log_q)
        label = "two-tower, log-Q" if log_q else "two-tower, no log-Q correction"
        add(label, model.scores(all_users, all_items, feats).numpy(), train_s=round(secs, 1))
        if log_q:
            cold = (
                model.embed_users(all_users)
                @ model.embed_items(torch.full((d.n_items,), -1), feats).T
            )
            add("two-tower, log-Q, features only", cold.numpy())
    add("oracle (generator's scores)", gen.oracle)
    cold_rows = cold_start_table(gen, split, epochs)
    return {
        "data": d.name,
        "users": d.n_users,
        "items": d.n_items,
        "interactions": len(d),
        "epochs": epochs,
        "rows": rows,
        "cold_start": cold_rows,
    }


def cold_start_table(gen, split, epochs: int) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """10 % of the items never seen in training (all their training interactions removed);
    scored on the users whose held-out item is one of them. The model embeds those items
    from their features only (id -1); most-popular and SVD have nothing to go on."""
    import torch

    from contrastkit.eval.recommend import (
        interaction_matrix,
        most_popular_scores,
        recommend_metrics,
        svd_scores,
    )

    d = gen.data
    cold = np.random.default_rng(1).choice(d.n_items, d.n_items // 10, replace=False)
    rows = split.train_rows[~np.isin(d.items[split.train_rows], cold)]
    train = interaction_matrix(d.users[rows], d.items[rows], d.n_users, d.n_items)
    test_item = np.where(np.isin(split.test_item, cold), split.test_item, -1)
    model, _ = train_two_tower(d, rows, dim=32, epochs=epochs, log_q=True)
    ids = torch.arange(d.n_items)
    ids[torch.from_numpy(cold)] = -1  # cold items: features only
    scores = model.scores(torch.arange(d.n_users), ids, torch.from_numpy(d.item_features))
    out = []
    print(f"cold start: {len(cold)} items unseen in training, {int((test_item >= 0).sum())} users")
    for name, sc in [
        ("most popular", most_popular_scores(train)),
        ("PureSVD (rank 32)", svd_scores(train, rank=32)),
        ("two-tower, cold items by features", scores.numpy()),
        ("oracle (generator's scores)", gen.oracle),
    ]:
        row = {"model": name, **recommend_metrics(sc, train, test_item)}
        out.append(row)
        print(
            f"  {name:<34} recall@10 {row['recall@10']:.4f}  recall@20 {row['recall@20']:.4f}  "
            f"ndcg@10 {row['ndcg@10']:.4f}",
            flush=True,
        )
    return out


ANOMALY_RUNS = {
    "digits (SimCLR)": ("configs/digits_simclr.yaml", []),
    "breast_cancer (SCARF)": ("configs/tabular_scarf.yaml", ["data.source=breast_cancer"]),
    "wine (SCARF)": ("configs/tabular_scarf.yaml", ["data.source=wine"]),
}


def anomaly_table(
    epochs: int, *, fashion: tuple[int, int], fashion_epochs: int
) -> list[dict[str, object]]:
    """One-class AUROC of the trained embedding and of the raw inputs, per data set."""
    sys.path.insert(0, str(Path(__file__).parent))
    from fashion import write_subset  # benchmarks/fashion.py

    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            name: (config, [*sets, f"train.epochs={epochs}"])
            for name, (config, sets) in ANOMALY_RUNS.items()
        }
        n_train, n_test = write_subset(Path(tmp), *fashion, seed=0)
        runs[f"Fashion-MNIST {n_train}/{n_test} (SimCLR)"] = (
            "configs/fashion_simclr.yaml",
            [f"data.path={tmp}", f"train.epochs={fashion_epochs}"],
        )
        return _anomaly_rows(runs)


def _anomaly_rows(runs: dict[str, tuple[str, list[str]]]) -> list[dict[str, object]]:
    import torch

    from contrastkit.config import load_config
    from contrastkit.eval.anomaly import one_class_anomaly
    from contrastkit.run import load_run, train_run

    rows: list[dict[str, object]] = []
    for name, (config, sets) in runs.items():
        sets = [*sets, "eval.fewshot_draws=2", "eval.baselines=false"]
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            train_run(
                load_config(Path(config), sets),
                Path(tmp) / "run",
                show_progress=False,
                log=lambda _m: None,
            )
            seconds = time.perf_counter() - start
            _, modality, method = load_run(Path(tmp) / "run")
            train_z, test_z = modality.reference(method, lambda _m: None)
            if hasattr(modality, "table"):
                t = modality.table
                raw_train = torch.cat([t.num_train, t.cat_train.float()], dim=1)
                raw_test = torch.cat([t.num_test, t.cat_test.float()], dim=1)
                y_train, y_test = t.y_train, t.y_test
            else:
                d = modality.data
                raw_train, raw_test = d.x_train.flatten(1).float(), d.x_test.flatten(1).float()
                y_train, y_test = d.y_train, d.y_test
        emb = one_class_anomaly(train_z, y_train, test_z, y_test, k=5)
        raw = one_class_anomaly(raw_train, y_train, raw_test, y_test, k=5)
        row = {
            "data": name,
            "epochs": int(next(v for v in sets if v.startswith("train.epochs=")).split("=")[1]),
            "auroc_embedding": emb["auroc"],
            "auroc_raw": raw["auroc"],
            "per_class_embedding": emb["per_class_auroc"],
            "per_class_raw": raw["per_class_auroc"],
            "train_and_eval_s": seconds,
        }
        print(
            f"  {name:24s} AUROC embedding {emb['auroc']:.3f}  raw {raw['auroc']:.3f}  "
            f"({seconds:.0f} s)"
        )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k vectors, small recommender")
    parser.add_argument("--threads", type=int, default=1, help="FAISS / torch threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--anomaly", action="store_true", help="the anomaly table only")
    parser.add_argument("--anomaly-epochs", type=int, default=30)
    parser.add_argument("--fashion-train", type=int, default=10_000)
    parser.add_argument("--fashion-test", type=int, default=2_000)
    parser.add_argument("--fashion-epochs", type=int, default=3)
    parser.add_argument("--case", nargs=2, metavar=("N", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:  # no torch here: the peak RSS is FAISS's and the vectors'
        print(json.dumps(run_case(int(args.case[0]), args.case[1], args.threads)))
        return
    import torch

    torch.set_num_threads(args.threads)
    if args.anomaly:
        print("anomaly: one-class protocol, k = 5, AUROC averaged over classes")
        rows = anomaly_table(
            args.anomaly_epochs,
            fashion=(args.fashion_train, args.fashion_test),
            fashion_epochs=args.fashion_epochs,
        )
        out = args.out.with_name("use_anomaly.json") if args.out == RESULTS else args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        note = "shared 2-core machine (other agents running): times are indicative"
        out.write_text(json.dumps({"note": note, "anomaly": rows}, indent=2) + "\n")
        print(f"wrote {out}")
        return
    if args.quick:
        cases = [(10_000, "auto"), (10_000, "ivf"), (10_000, "hnsw")]
    else:
        cases = [(10_000, "auto"), (100_000, "auto"), (100_000, "ivf"), (100_000, "hnsw")]
        cases += [(1_000_000, "auto")]
    print(f"index: dim {DIM}, {CLUSTERS} clusters, noise {NOISE}, {args.threads} thread(s)")
    index_rows = index_table(cases, args.threads)
    print("recommendation (generated interactions, leave-last-out):")
    rec = recommend_table(args.quick)
    result = {
        "quick": args.quick,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}",
        "threads": args.threads,
        "note": "shared machine (other agents running): times are indicative",
        "index": index_rows,
        "recommend": rec,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
