"""Retrieval by language on hand-made embeddings: each cell counted by hand."""

from __future__ import annotations

import io

import pytest
import torch
from rich.console import Console

from contrastkit.eval.crossmodal import retrieval_metrics
from contrastkit.eval.crossmodal_languages import language_means, retrieval_by_language
from contrastkit.modalities.registry import metrics_tables


def _case() -> tuple[torch.Tensor, torch.Tensor, list[str], torch.Tensor, torch.Tensor, list[str]]:
    """3 concepts in English and German. English texts sit on axes 0, 1, 2; the German
    text of concept 2 sits on axis 3 (its spelling went elsewhere). English clips sit near
    their texts; the German clip of concept 2 sounds like concept 1."""
    b = torch.eye(4)
    texts = torch.stack([b[0], b[1], b[2], b[0], b[1], b[3]])
    t_ids = torch.tensor([0, 1, 2, 0, 1, 2])
    t_langs = ["en", "en", "en", "de", "de", "de"]
    clips = torch.stack([b[0], b[1], b[2] + 0.1 * b[0], b[0], b[1], b[1]])
    c_ids = torch.tensor([0, 1, 2, 0, 1, 2])
    c_langs = ["en", "en", "en", "de", "de", "de"]
    return clips, c_ids, c_langs, texts, t_ids, t_langs


def test_each_language_pair_counted_by_hand() -> None:
    table = retrieval_by_language(*_case())
    assert list(table) == ["de", "en"] and list(table["en"]) == ["de", "en"]
    r1 = {(a, b): table[a][b]["recall_at_1"] for a in table for b in table[a]}
    # en -> en: all three right; en -> de: the clip of concept 2 has no German text near
    # it and ranks German "0" first (0.1 along axis 0), its own text third.
    assert r1["en", "en"] == pytest.approx(1.0)
    assert r1["en", "de"] == pytest.approx(2 / 3)
    assert table["en"]["de"]["mrr"] == pytest.approx((1 + 1 + 1 / 3) / 3)
    # the German clip of concept 2 lies on concept 1's text in both languages
    assert r1["de", "de"] == pytest.approx(2 / 3) and r1["de", "en"] == pytest.approx(2 / 3)
    cell = table["de"]["en"]
    assert cell["queries"] == 3 and cell["candidates"] == 3
    assert cell["chance_recall_at_1"] == pytest.approx(1 / 3)
    means = language_means(table)
    assert means["within_language_recall_at_1"] == pytest.approx((1 + 2 / 3) / 2)
    assert means["across_languages_recall_at_1"] == pytest.approx(2 / 3)


def test_one_language_has_no_across_mean() -> None:
    clips, c_ids, _, texts, t_ids, _ = _case()
    english = ["en"] * 3
    table = retrieval_by_language(clips[:3], c_ids[:3], english, texts[:3], t_ids[:3], english)
    assert language_means(table) == {"within_language_recall_at_1": pytest.approx(1.0)}


def test_language_lists_must_match_the_rows() -> None:
    clips, c_ids, c_langs, texts, t_ids, t_langs = _case()
    with pytest.raises(ValueError, match="5 query and 6 candidate languages"):
        retrieval_by_language(clips, c_ids, c_langs[:5], texts, t_ids, t_langs)


def test_tables_print_the_cells_and_the_directions_only() -> None:
    clips, c_ids, c_langs, texts, t_ids, t_langs = _case()
    split = {
        "audio_to_text": retrieval_metrics(clips, texts, c_ids, t_ids),
        "text_to_audio": retrieval_metrics(texts, clips, t_ids, c_ids),
        "audio_to_text_by_language": retrieval_by_language(*_case()),
    }
    tables = metrics_tables({"crossmodal": {"heldout_voices": split, "logit_scale": 14.0}})
    headings = [shown.heading for shown, _ in tables]
    assert headings == ["Cross-modal retrieval", "Retrieval by language"]
    assert tables[0][1].row_count == 2  # the two directions, not the table by language
    out = io.StringIO()
    Console(file=out, width=120).print(tables[1][1])
    rows = [
        [cell for cell in line.split() if cell != "│"]
        for line in out.getvalue().splitlines()
        if "heldout_voices" in line
    ]
    assert rows == [  # split, spoken, to de, to en, chance
        ["heldout_voices", "de", "66.7", "66.7", "33.3"],
        ["heldout_voices", "en", "66.7", "100.0", "33.3"],
    ]
