"""The recommender through the product: train (CLI) on generated interactions, its
`recommend` block recomputed from `eval/recommend.py`, `recommend` / `search` / `embed`
outputs checked against the model's own scores, and bad inputs as one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.recommend.conftest import CONFIG
from tests.use.conftest import run_cli

from contrastkit.config import load_config
from contrastkit.data.interactions import generate_interactions, write_interactions_csv
from contrastkit.errors import UserError
from contrastkit.eval.recommend import (
    interaction_matrix,
    leave_last_out,
    most_popular_scores,
    recommend_metrics,
    svd_scores,
)
from contrastkit.methods.registry import method_spec
from contrastkit.modalities.interactions.sources import GENERATED
from contrastkit.run import load_run, resolve, train_run
from metrics_schema import check_metrics


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return " ".join(err.split())


def _block(m: dict[str, float]) -> dict[str, float]:
    return {
        "recall_at_10": m["recall@10"],
        "recall_at_20": m["recall@20"],
        "ndcg_at_10": m["ndcg@10"],
    }


def test_metrics_equal_a_direct_computation(rec_run: Path) -> None:
    """Every number of the block, recomputed from the generator, the split and the model."""
    metrics = json.loads((rec_run / "metrics.json").read_text())
    check_metrics(metrics)
    block = metrics["recommend"]
    gen = generate_interactions(**GENERATED, seed=0)
    d = gen.data
    split = leave_last_out(d.users, d.items, d.timestamps, d.n_users)
    rows = split.train_rows
    train = interaction_matrix(d.users[rows], d.items[rows], d.n_users, d.n_items)
    _, _, method = load_run(rec_run)
    assert d.item_features is not None
    model = method.scores(
        torch.arange(d.n_users), torch.arange(d.n_items), torch.from_numpy(d.item_features)
    ).numpy()
    expect = {
        "model": _block(recommend_metrics(model, train, split.test_item)),
        "most_popular": _block(
            recommend_metrics(most_popular_scores(train), train, split.test_item)
        ),
        "svd": _block(recommend_metrics(svd_scores(train, rank=32), train, split.test_item)),
        "oracle": _block(recommend_metrics(gen.oracle, train, split.test_item)),
    }
    for name, scores in expect.items():
        assert block[name] == pytest.approx(scores, abs=0), name
    assert (block["users"], block["items"], block["interactions"]) == (1500, 400, 22500)
    assert block["test_users"] == 1500 and block["svd_rank"] == 32 and block["generated"]
    assert metrics["method"] == "two_tower" and metrics["data"] == d.name


def test_held_out_items_are_never_trained_on() -> None:
    """The training dataset is exactly the rows leave-last-out keeps, with log q of each."""
    modality = resolve(load_config(CONFIG))
    training = modality.training(method_spec("two_tower"), print)
    batch = training.items.data  # type: ignore[attr-defined]
    d = generate_interactions(**GENERATED, seed=0).data
    split = leave_last_out(d.users, d.items, d.timestamps, d.n_users)
    assert torch.equal(batch.users, torch.from_numpy(d.users[split.train_rows]))
    assert torch.equal(batch.item_ids, torch.from_numpy(d.items[split.train_rows]))
    held = {(u, int(split.test_item[u])) for u in range(d.n_users)}
    pairs = set(zip(batch.users.tolist(), batch.item_ids.tolist(), strict=True))
    assert not held & pairs  # generated users never repeat an item
    counts = np.bincount(d.items[split.train_rows], minlength=d.n_items)
    expect = np.log(counts[batch.item_ids.numpy()] / len(split.train_rows))
    np.testing.assert_allclose(batch.log_q.numpy(), expect, rtol=1e-6)


def test_recommend_prints_the_top_unseen_items(
    rec_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, method = load_run(rec_run)
    d = generate_interactions(**GENERATED, seed=0).data
    assert d.item_features is not None
    scores = method.scores(
        torch.tensor([17]), torch.arange(d.n_items), torch.from_numpy(d.item_features)
    )[0].numpy()
    seen = set(d.items[d.users == 17].tolist())
    order = [j for j in np.argsort(-scores, kind="stable") if j not in seen][:5]
    capsys.readouterr()
    assert (
        run_cli(monkeypatch, "recommend", "--run", str(rec_run), "--user", "u17", "--k", "5") == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "top 5 for user u17 among 400 items (15 already theirs left out):"
    assert [line.split()[2] for line in lines[1:]] == [f"i{j}" for j in order]
    assert [float(line.split()[1]) for line in lines[1:]] == pytest.approx(
        [float(scores[j]) for j in order], abs=1e-4
    )
    args = ["recommend", "--run", str(rec_run), "--user", "u17", "--k", "3", "--json"]
    assert run_cli(monkeypatch, *args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [x["item"] for x in out["items"]] == [f"i{j}" for j in order[:3]]
    assert out["candidates"] == 400 and out["left_out"] == 15


def test_cold_start_items_by_their_features(
    rec_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A new item with an existing item's features scores as that item's feature part."""
    gen = generate_interactions(**GENERATED, seed=0)
    f = gen.data.item_features
    assert f is not None
    names = [f"f{k}" for k in range(f.shape[1])]
    rows = ["item," + ",".join(names)]
    rows += [f"new{j}," + ",".join(repr(float(v)) for v in f[j]) for j in (3, 7)]
    rows += ["i5," + ",".join(repr(float(v)) for v in f[5])]
    path = tmp_path / "new.csv"
    path.write_text("\n".join(rows) + "\n")
    _, _, method = load_run(rec_run)
    ids = torch.tensor([-1, -1, 5])
    items = method.embed_items(ids, torch.from_numpy(f[[3, 7, 5]]))
    expect = (items @ method.embed_users(torch.tensor([17]))[0]).tolist()
    capsys.readouterr()
    args = ["recommend", "--run", str(rec_run), "--user", "u17", "--item-features", str(path)]
    assert run_cli(monkeypatch, *args, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    got = {x["item"]: (x["score"], x["new"]) for x in out["items"]}
    assert got["new3"] == (pytest.approx(expect[0], abs=1e-5), True)
    assert got["new7"] == (pytest.approx(expect[1], abs=1e-5), True)
    assert ("i5" in got) == (5 not in set(gen.data.items[gen.data.users == 17].tolist()))
    bad = tmp_path / "bad.csv"
    bad.write_text("item,f0\nx,1\n")
    assert run_cli(monkeypatch, *args[:-1], str(bad)) == 2
    assert f"{bad}: missing column(s) f1, f2" in _err(capsys)


def test_unknown_user_and_item_name_close_ids(rec_run: Path, monkeypatch, capsys) -> None:
    capsys.readouterr()
    assert run_cli(monkeypatch, "recommend", "--run", str(rec_run), "--user", "u17x") == 2
    err = _err(capsys)
    assert "--user: unknown user 'u17x' (1500 users in the run's data; close ids: u17" in err
    assert run_cli(monkeypatch, "search", "--run", str(rec_run), "--query", "i4000") == 2
    assert "--query: unknown item 'i4000'" in _err(capsys)
    assert run_cli(monkeypatch, "recommend", "--run", str(rec_run), "--user", "u1", "--k", "0") == 2
    assert "--k must be >= 1" in _err(capsys)


def test_search_by_item_id_and_embed_users(
    rec_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _, _, method = load_run(rec_run)
    d = generate_interactions(**GENERATED, seed=0).data
    assert d.item_features is not None
    items = method.embed_items(torch.arange(d.n_items), torch.from_numpy(d.item_features))
    sims = (items @ items[42]).numpy()
    best = np.argsort(-sims, kind="stable")[:4]
    capsys.readouterr()
    args = ["search", "--run", str(rec_run), "--query", "i42", "--k", "4", "--json"]
    assert run_cli(monkeypatch, *args) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert [h["id"] for h in hits] == [f"i{j}" for j in best] and hits[0]["id"] == "i42"
    out = tmp_path / "users.npy"
    args = ["embed", "--run", str(rec_run), "--data", "users", "--out", str(out)]
    assert run_cli(monkeypatch, *args) == 0
    np.testing.assert_allclose(
        np.load(out), method.embed_users(torch.arange(d.n_users)).numpy(), atol=1e-6
    )
    assert (tmp_path / "users.ids.txt").read_text().splitlines()[:2] == ["u0", "u1"]


def test_csv_source_trains_and_evaluates(tmp_path: Path) -> None:
    """The same data written as a CSV gives the same split and baselines (no oracle)."""
    gen = generate_interactions(60, 30, per_user=5, dim=4, n_features=3, seed=1)
    path = tmp_path / "inter.csv"
    write_interactions_csv(path, gen.data)
    cfg = load_config(
        CONFIG,
        [
            "data.source=interactions",
            f"data.path={path}",
            "train.epochs=1",
            "train.batch_size=32",
            "model.feature_dim=8",
            "model.width=8",
        ],
    )
    metrics = train_run(cfg, tmp_path / "run", show_progress=False, log=lambda _m: None)
    block = metrics["recommend"]
    d = gen.data
    split = leave_last_out(d.users, d.items, d.timestamps, d.n_users)
    train = interaction_matrix(
        d.users[split.train_rows], d.items[split.train_rows], d.n_users, d.n_items
    )
    popular = recommend_metrics(most_popular_scores(train), train, split.test_item)
    assert block["most_popular"] == pytest.approx(_block(popular), abs=0)
    assert "oracle" not in block and block["generated"] is False and block["svd_rank"] == 29
    assert metrics["data"] == "inter.csv"
    with path.open("a") as handle:  # a new user: the user tower no longer fits the checkpoint
        handle.write(path.read_text().splitlines()[1].replace("u0,", "newcomer,", 1) + "\n")
    with pytest.raises(UserError, match=r"does not fit the model built from the run's data now"):
        load_run(tmp_path / "run")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "data: {source: generated_interactions}\nmethod: {name: simclr}\n",
            "method.name: 'simclr' does not train on interactions (data.source "
            "'generated_interactions'); methods for interactions: two_tower",
        ),
        (
            "data: {source: digits}\nmethod: {name: two_tower}\n",
            "method.name: 'two_tower' does not train on images",
        ),
        (
            "data: {source: interactions}\nmethod: {name: two_tower}\n",
            "data.path: data.source 'interactions' needs a CSV",
        ),
    ],
)
def test_wrong_method_or_data_is_one_line(
    config: str, message: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(config)
    args = ["train", "--config", str(path), "--out", str(tmp_path / "r"), "--no-progress"]
    capsys.readouterr()
    assert run_cli(monkeypatch, *args) == 2
    assert message in _err(capsys)


def test_recommend_on_another_run_says_what_it_needs(tmp_path: Path, monkeypatch, capsys) -> None:
    from tests.export.runs import TABLE, make_run

    run = make_run(tmp_path / "wine", "tabular_scarf.yaml", TABLE)
    capsys.readouterr()
    assert run_cli(monkeypatch, "recommend", "--run", str(run), "--user", "u1") == 2
    assert "is a tables run; recommend needs a recommender run" in _err(capsys)


def test_missing_column_names_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "x.csv"
    path.write_text("user,thing\nu1,a\nu1,b\n")
    args = ["train", "--config", CONFIG, "--out", str(tmp_path / "r"), "--no-progress"]
    args += ["--set", "data.source=interactions", "--set", f"data.path={path}"]
    capsys.readouterr()
    assert run_cli(monkeypatch, *args) == 2
    assert f"{path}: missing column(s) item (the header has user, thing)" in _err(capsys)
    path.write_text("user,item,timestamp\nu1,a,1\nu1,b,soon\n")
    assert run_cli(monkeypatch, *args) == 2
    assert f"{path}:3: column 'timestamp': 'soon' is neither a number" in _err(capsys)


@pytest.mark.slow
def test_the_recipe_beats_both_baselines(tmp_path: Path) -> None:
    """configs/interactions_two_tower.yaml as shipped (15 epochs, about 5 s of training on
    one core): recall@10 above most-popular and truncated SVD, below the oracle."""
    cfg = load_config(CONFIG)
    block = train_run(cfg, tmp_path / "run", show_progress=False, log=lambda _m: None)["recommend"]
    model = block["model"]["recall_at_10"]
    assert model > block["svd"]["recall_at_10"] + 0.05
    assert model > block["most_popular"]["recall_at_10"] + 0.2
    assert model < block["oracle"]["recall_at_10"]
    assert block["model"]["ndcg_at_10"] > block["svd"]["ndcg_at_10"]
