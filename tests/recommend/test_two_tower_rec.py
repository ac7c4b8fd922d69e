"""Item/user towers and the two-tower recommender: loss wiring, id dropout, cold start, and
a short training run that recovers the generator's structure better than popularity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from contrastkit.data.interactions import generate_interactions
from contrastkit.encoders.item_tower import ItemTower, RecommenderTowers, UserTower
from contrastkit.eval.recommend import (
    interaction_matrix,
    leave_last_out,
    most_popular_scores,
    recommend_metrics,
)
from contrastkit.losses import sampled_softmax
from contrastkit.methods.two_tower_rec import InteractionBatch, TwoTowerRecommender


def model(num_features: int = 3, id_dropout: float = 0.5) -> TwoTowerRecommender:
    torch.manual_seed(0)
    return TwoTowerRecommender(
        UserTower(num_users=6, dim=4),
        ItemTower(num_items=5, num_features=num_features, dim=4, hidden=8, id_dropout=id_dropout),
        temperature=0.2,
    )


def batch() -> InteractionBatch:
    return InteractionBatch(
        users=torch.tensor([0, 1, 2, 5]),
        item_ids=torch.tensor([1, 1, 4, 0]),
        features=torch.randn(4, 3, generator=torch.Generator().manual_seed(1)),
        log_q=torch.log(torch.tensor([0.4, 0.4, 0.1, 0.2])),
    )


def test_loss_is_sampled_softmax_of_the_towers() -> None:
    m = model(id_dropout=0.0)
    b = batch()
    got = m.training_loss(b)
    u = m.user_tower(b.users)
    v = m.encoder(b.item_ids, b.features)
    want = sampled_softmax(u, v, b.log_q, temperature=0.2, item_ids=b.item_ids)
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    got.backward()
    assert m.user_tower.embed.weight.grad is not None


def test_item_tower_is_id_plus_features_and_cold_start_is_features_only() -> None:
    tower = ItemTower(num_items=5, num_features=3, dim=4, hidden=8, id_dropout=0.0).eval()
    f = torch.randn(2, 3)
    assert tower.features is not None
    feature_only = tower.features(f)
    warm = tower(torch.tensor([2, 3]), f)
    torch.testing.assert_close(warm, tower.embed.weight[[2, 3]] + feature_only)
    cold = tower(torch.tensor([-1, 3]), f)
    torch.testing.assert_close(cold[0], feature_only[0])
    torch.testing.assert_close(cold[1], warm[1])


def test_id_dropout_only_in_training_and_seeded() -> None:
    tower = ItemTower(num_items=50, num_features=2, dim=3, hidden=4, id_dropout=0.5)
    ids, f = torch.arange(50), torch.zeros(50, 2)
    assert tower.features is not None
    base = tower.features(f)
    a = tower(ids, f, generator=torch.Generator().manual_seed(0))
    b = tower(ids, f, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    dropped = torch.isclose(a, base).all(dim=1)
    assert 10 < int(dropped.sum()) < 40  # about half the rows lost their id embedding
    tower.eval()
    assert not torch.isclose(tower(ids, f), base).all(dim=1).any()


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="id_dropout"):
        ItemTower(num_items=3, num_features=1, dim=2, id_dropout=1.0)
    tower = ItemTower(num_items=3, num_features=0, dim=2)
    with pytest.raises(ValueError, match="need features"):
        tower(torch.tensor([-1]), None)
    with pytest.raises(ValueError, match=r"item_ids must be in \[-1, 2\]"):
        tower(torch.tensor([3]), None)
    with pytest.raises(ValueError, match=r"user_ids must be in \[0, 5\]"):
        model().user_tower(torch.tensor([6]))
    with pytest.raises(ValueError, match="tower sizes differ"):
        TwoTowerRecommender(
            UserTower(num_users=2, dim=3), ItemTower(num_items=2, num_features=0, dim=4)
        )


@pytest.mark.slow
def test_short_training_beats_most_popular() -> None:
    torch.set_num_threads(1)
    gen = generate_interactions(300, 120, per_user=12, dim=4, n_features=8, seed=0)
    d = gen.data
    assert d.item_features is not None
    split = leave_last_out(d.users, d.items, d.timestamps, d.n_users)
    tu, ti = d.users[split.train_rows], d.items[split.train_rows]
    train = interaction_matrix(tu, ti, d.n_users, d.n_items)
    freq = np.bincount(ti, minlength=d.n_items) / len(ti)
    torch.manual_seed(0)
    m = TwoTowerRecommender(
        UserTower(num_users=d.n_users, dim=16),
        ItemTower(num_items=d.n_items, num_features=8, dim=16, hidden=32, id_dropout=0.3),
        temperature=0.1,
    )
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    feats = torch.from_numpy(d.item_features)
    g = torch.Generator().manual_seed(0)
    for _ in range(15):
        for rows in torch.randperm(len(tu), generator=g).split(256):
            items = torch.from_numpy(ti)[rows]
            b = InteractionBatch(
                torch.from_numpy(tu)[rows],
                items,
                feats[items],
                torch.from_numpy(np.log(freq))[items].float(),
            )
            opt.zero_grad()
            m.training_loss(b, generator=g).backward()
            opt.step()
    scores = m.scores(torch.arange(d.n_users), torch.arange(d.n_items), feats).numpy()
    ours = recommend_metrics(scores, train, split.test_item)
    pop = recommend_metrics(most_popular_scores(train), train, split.test_item)
    oracle = recommend_metrics(gen.oracle, train, split.test_item)
    assert ours["recall@10"] > pop["recall@10"] + 0.05
    assert ours["recall@10"] <= oracle["recall@10"] + 0.05


def test_interaction_batch_collates_with_and_without_features() -> None:
    items = [
        (torch.tensor(u), torch.tensor(i), None, torch.tensor(-1.0)) for u, i in [(0, 2), (1, 3)]
    ]
    b = InteractionBatch.collate(items)
    assert len(b) == 2 and b.features is None and b.item_ids.tolist() == [2, 3]
    with_f = InteractionBatch.collate(
        [(torch.tensor(0), torch.tensor(1), torch.ones(3), torch.tensor(-2.0))] * 3
    )
    assert with_f.features is not None and with_f.features.shape == (3, 3)
    assert with_f.take(torch.tensor([0, 2])).log_q.tolist() == [-2.0, -2.0]
    with pytest.raises(ValueError, match="differ in batch size"):
        InteractionBatch(torch.zeros(2), torch.zeros(3), None, torch.zeros(2))
    with pytest.raises(ValueError, match="expects an InteractionBatch"):
        model().training_loss((torch.zeros(2),))  # type: ignore[arg-type]


def test_towers_of_different_sizes_are_refused() -> None:
    users, items = UserTower(num_users=6, dim=4), ItemTower(num_items=5, num_features=3, dim=8)
    with pytest.raises(ValueError, match="the towers embed in 4 and 8 dimensions"):
        RecommenderTowers(users, items)
    towers = RecommenderTowers(users, ItemTower(num_items=5, num_features=3, dim=4))
    assert towers.users is users and towers.items.dim == 4
