"""Config files a user can get wrong end in one line naming the file and line, never a
traceback or a silently different config (issue 17).

`read_yaml_mapping` (contrastkit.yaml_input) does it, and `load_config` reads through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contrastkit.config import load_config
from contrastkit.errors import UserError
from contrastkit.yaml_input import read_yaml_mapping

CONFIGS = Path(__file__).parents[1] / "configs"


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    return path


def _one_line_error(read: object, path: Path) -> str:
    with pytest.raises(UserError) as info:
        read(path)  # type: ignore[operator]
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


LATIN1 = b"train:\n  epochs: 5\n# caf\xe9 au lait\n"
TAG = b'train: !!python/object/apply:os.system ["touch {target}"]\n'
DUPLICATE = b"train:\n  epochs: 5\neval:\n  knn_k: 5\ntrain:\n  lr: 0.1\n"
TABS = b"train:\n\tepochs: 5\n"


# --- the function the lead will call ----------------------------------------------------


def test_a_config_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, LATIN1)
    message = _one_line_error(read_yaml_mapping, path)
    assert message == f"{path}: line 3: not UTF-8 text (byte 0xe9); save the config as UTF-8"


def test_a_yaml_tag_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    path = _write(tmp_path, TAG.replace(b"{target}", str(target).encode()))
    message = _one_line_error(read_yaml_mapping, path)
    assert message.startswith(f"{path}: line 1: YAML tags are not allowed in a config (")
    assert "python/object/apply:os.system" in message
    assert not target.exists()


@pytest.mark.parametrize(
    ("text", "kind"),
    [(b"- train\n- eval\n", "a list"), (b"hello\n", "a string"), (b"42\n", "a number")],
)
def test_a_top_level_that_is_not_a_mapping_says_what_it_got(
    tmp_path: Path, text: bytes, kind: str
) -> None:
    path = _write(tmp_path, text)
    message = _one_line_error(read_yaml_mapping, path)
    assert message == f"{path}: expected a mapping of sections at the top level (got {kind})"


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, DUPLICATE)
    message = _one_line_error(read_yaml_mapping, path)
    assert message == f"{path}: line 5: key 'train' given twice (lines 1 and 5)"
    nested = _write(tmp_path, b"train:\n  epochs: 5\n  epochs: 7\n")
    assert "key 'epochs' given twice (lines 2 and 3)" in _one_line_error(read_yaml_mapping, nested)


def test_a_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, TABS)
    message = _one_line_error(read_yaml_mapping, path)
    assert message.startswith(f"{path}: not valid YAML: line 2, column 1: found character")


def test_empty_bom_and_missing_files(tmp_path: Path) -> None:
    assert read_yaml_mapping(_write(tmp_path, b"")) == {}
    assert read_yaml_mapping(_write(tmp_path, b"# only a comment\n")) == {}
    assert read_yaml_mapping(_write(tmp_path, b"\xef\xbb\xbftrain:\n  epochs: 5\n")) == {
        "train": {"epochs": 5}
    }
    with pytest.raises(UserError, match="config file not found"):
        read_yaml_mapping(tmp_path / "missing.yaml")
    with pytest.raises(UserError, match="config file not found"):
        read_yaml_mapping(tmp_path)  # a folder


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_reads_as_yaml_safe_load_does(path: Path) -> None:
    import yaml

    assert read_yaml_mapping(path) == yaml.safe_load(path.read_text())


# --- load_config: the same cases through the loader (the lead wires them) --------------


def test_load_config_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, LATIN1)
    assert "line 3: not UTF-8" in _one_line_error(load_config, path)


def test_load_config_yaml_tag(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    path = _write(tmp_path, TAG.replace(b"{target}", str(target).encode()))
    try:
        assert "YAML tags are not allowed" in _one_line_error(load_config, path)
    finally:
        assert not target.exists()


def test_load_config_top_level_list(tmp_path: Path) -> None:
    path = _write(tmp_path, b"- train\n- eval\n")
    assert _one_line_error(load_config, path).endswith("(got a list)")


def test_load_config_duplicate_key(tmp_path: Path) -> None:
    path = _write(tmp_path, DUPLICATE)
    assert "key 'train' given twice" in _one_line_error(load_config, path)


def test_load_config_syntax_error_on_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, TABS)
    assert "line 2, column 1" in _one_line_error(load_config, path)


def test_load_config_never_runs_a_tag_today(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    path = _write(tmp_path, TAG.replace(b"{target}", str(target).encode()))
    with pytest.raises(UserError):
        load_config(path)
    assert not target.exists()
