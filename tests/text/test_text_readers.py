"""Text readers: what they return, and the one-line errors naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from contrastkit.data.text import read_text_lines, read_text_pairs
from contrastkit.errors import UserError


def test_lines_are_stripped_and_blank_lines_dropped(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("  a red fox \n\n\tthe dog\n   \ncafé\n", encoding="utf-8")
    assert read_text_lines(path) == ["a red fox", "the dog", "café"]


@pytest.mark.parametrize("content", [b"", b"\n  \n\t\n"])
def test_empty_text_file_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=r"empty\.txt: no text"):
        read_text_lines(path)


def test_invalid_utf8_names_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"first line\nsecond caf\xe9 here\n")  # 0xe9 is the 11th byte of line 2
    with pytest.raises(
        UserError, match=r"latin1\.txt: line 2, byte 11: invalid UTF-8 \(byte 0xe9\)"
    ):
        read_text_lines(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nope.txt: file not found"):
        read_text_lines(tmp_path / "nope.txt")


def test_csv_pairs_and_triplets(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text('anchor,positive\n"a dog, barking",dog\na cat,cat\na dog, barking,hound\n')
    with pytest.raises(UserError, match=r"line 4: expected 2 fields \(anchor, positive\), got 3"):
        read_text_pairs(pairs)
    pairs.write_text('anchor,positive\n"a dog, barking",dog\na cat,cat\n"a dog, barking",hound\n')
    got = read_text_pairs(pairs)
    assert got.anchors == ["a dog, barking", "a cat", "a dog, barking"]
    assert got.positives == ["dog", "cat", "hound"]
    assert got.negatives is None
    assert got.groups == [0, 1, 0]  # equal anchors share a group
    triplets = tmp_path / "triplets.csv"
    triplets.write_text("positive,anchor,negative\nfox,a red animal,fish\n")
    got = read_text_pairs(triplets)
    assert (got.anchors, got.positives, got.negatives) == (["a red animal"], ["fox"], ["fish"])


def test_csv_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfanchor,positive\nq,a\n")
    assert read_text_pairs(path).anchors == ["q"]


def test_csv_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("anchor,answer\nq,a\n")
    with pytest.raises(
        UserError, match=r"bad\.csv: line 1: missing column 'positive' \(header has: anchor, answer"
    ):
        read_text_pairs(path)


def test_csv_ragged_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("anchor,positive,negative\nq1,a1,n1\nq2,a2\n")
    with pytest.raises(UserError, match=r"ragged\.csv: line 3: expected 3 fields .* got 2"):
        read_text_pairs(path)


def test_csv_empty_cell_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("anchor,positive,negative\nq1,a1,n1\nq2,a2,  \n")
    with pytest.raises(UserError, match=r"blank\.csv: line 3, column 'negative': empty text"):
        read_text_pairs(path)


def test_csv_invalid_utf8_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "bytes.csv"
    path.write_bytes(b"anchor,positive\nq,\xff\n")
    with pytest.raises(UserError, match=r"bytes\.csv: line 2, byte 3: invalid UTF-8"):
        read_text_pairs(path)
    path.write_bytes(b"")
    with pytest.raises(UserError, match=r"bytes\.csv: empty file"):
        read_text_pairs(path)
    path.write_text("anchor,positive\n")
    with pytest.raises(UserError, match=r"bytes\.csv: no pairs"):
        read_text_pairs(path)


def test_jsonl_pairs(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"anchor": " a fox ", "positive": "fox", "id": 3}\n\n{"anchor": "b", "positive": "c"}\n'
    )
    got = read_text_pairs(path)
    assert (got.anchors, got.positives, got.negatives) == (["a fox", "b"], ["fox", "c"], None)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('{"anchor": "a", "positive": "b"}\n{"anchor": "a",\n', r"line 2: not valid JSON"),
        (
            '{"anchor": "a", "answer": "b"}\n',
            r"line 1: missing key 'positive' \(has: anchor, answer\)",
        ),
        ('{"anchor": "a", "positive": 3}\n', r"line 1, key 'positive': expected a string, got int"),
        ('["a", "b"]\n', r"line 1: expected a JSON object"),
        (
            '{"anchor": "a", "positive": "b", "negative": "c"}\n{"anchor": "a", "positive": "b"}\n',
            r"line 2: lacks key 'negative' unlike the first row",
        ),
        ('{"anchor": "a", "positive": ""}\n', r"line 1, column 'positive': empty text"),
        ("\n\n", r"no pairs"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, lines: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(lines)
    with pytest.raises(UserError, match=rf"bad\.jsonl: {message}"):
        read_text_pairs(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"pairs\.tsv: unknown pair file type"):
        read_text_pairs(tmp_path / "pairs.tsv")
