"""Readers of paired data: caption CSV errors and --skip-bad counts, spoken-word pairs
made with espeak-ng (needs the Debian package espeak-ng), bad WAVs, the digits demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.multimodal.few_clips import speak_few

from contrastkit.audio.speech import MANIFEST, read_manifest
from contrastkit.config import AudioConfig, load_config
from contrastkit.data.caption_csv import load_caption_pairs, read_caption_csv
from contrastkit.data.digit_captions import NUMBER_WORDS, TEMPLATES, load_digit_captions
from contrastkit.data.speech_pairs import load_clips, load_speech_pairs
from contrastkit.errors import UserError
from contrastkit.modalities.registry import source_of
from contrastkit.run import settle


def _caption_dir(tmp_path: Path, n: int = 4) -> Path:
    for i in range(n):
        Image.fromarray(np.full((10, 12, 3), 20 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    rows = ["image_path,caption"] + [f"{i}.png,picture {i % 2}" for i in range(n)]
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "pairs.csv"


def test_caption_csv_reads_resizes_and_groups_equal_captions(tmp_path: Path) -> None:
    csv_path = _caption_dir(tmp_path, n=6)
    images, captions, skipped = read_caption_csv(csv_path, image_size=8, skip_bad=False)
    assert images.shape == (6, 3, 8, 8) and skipped == 0
    assert int(images[3].float().mean()) == 60
    assert captions[:2] == ["picture 0", "picture 1"]
    data = load_caption_pairs(
        csv_path, image_size=8, test_fraction=0.34, split_seed=0, skip_bad=False
    )
    assert len(data.train.texts) == 4 and len(data.tests["test"].texts) == 2
    for split in (data.train, data.tests["test"]):
        for text, idx in zip(split.texts, split.ids.tolist(), strict=True):
            assert idx == int(text[-1])  # "picture 0" -> id 0, "picture 1" -> id 1


def test_caption_csv_missing_image_names_row_and_path(tmp_path: Path) -> None:
    csv_path = _caption_dir(tmp_path)
    (tmp_path / "2.png").unlink()
    with pytest.raises(UserError, match=r"pairs\.csv row 4: image file not found: .*2\.png"):
        read_caption_csv(csv_path, image_size=8, skip_bad=False)
    (tmp_path / "3.png").write_text("not an image")
    images, captions, skipped = read_caption_csv(csv_path, image_size=8, skip_bad=True)
    assert skipped == 2 and captions == ["picture 0", "picture 1"] and len(images) == 2


def test_caption_csv_bad_header_and_not_image(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("path,text\nx.png,hello\n")
    with pytest.raises(UserError, match="missing column.*image_path, caption"):
        read_caption_csv(tmp_path / "a.csv", image_size=8, skip_bad=False)
    (tmp_path / "x.png").write_bytes(b"\x00\x01 not png")
    (tmp_path / "b.csv").write_text("image_path,caption\nx.png,hello\n")
    with pytest.raises(UserError, match=r"row 2: not a readable image: .*x\.png"):
        read_caption_csv(tmp_path / "b.csv", image_size=8, skip_bad=False)
    with pytest.raises(UserError, match="caption CSV not found"):
        read_caption_csv(tmp_path / "none.csv", image_size=8, skip_bad=False)


def test_digit_captions_come_from_labels() -> None:
    data = load_digit_captions(test_fraction=0.3, split_seed=0)
    split = data.tests["test"]
    for text, label in zip(split.texts[:50], split.ids[:50].tolist(), strict=True):
        assert text in {t.format(NUMBER_WORDS[label]) for t in TEMPLATES}
    assert split.prompts[7][0] == "a handwritten seven"
    assert len(data.train.texts) + len(split.texts) == 1797


@pytest.fixture(scope="module")
def tiny_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 words x 3 voices, one speed and pitch: 9 espeak-ng clips."""
    out = tmp_path_factory.mktemp("speech")
    voices = {"en": ("en-us+m1", "en-gb+f2", "en-029+f4")}
    speak_few(out, voices, ("apple", "river", "good night"))
    return out


def test_espeak_clips_split_by_held_out_words_and_voices(tiny_speech: Path) -> None:
    clips = read_manifest(tiny_speech / MANIFEST)
    assert len(clips) == 9 and {c.text for c in clips} == {"apple", "river", "good night"}
    cfg = AudioConfig(heldout_words=1, heldout_voices=1, n_mels=32)
    data = load_speech_pairs(cfg, manifest=tiny_speech / MANIFEST,
                             split_seed=0, skip_bad=False)  # fmt: skip
    train, new_voice, new_word = (
        data.train,
        data.tests["heldout_voices"],
        data.tests["heldout_words"],
    )
    assert train.x.shape == (4, 1, 32, 101)  # 2 words x 2 voices, 1 s at 16 kHz, 10 ms hop
    assert len(new_voice.texts) == 2 and len(new_word.texts) == 2
    assert set(new_word.texts).isdisjoint(train.texts)
    assert set(new_voice.texts) == set(train.texts)
    assert float(train.x.mean()) == pytest.approx(0.0, abs=1e-5)  # standardised on train
    assert new_word.prompts == {int(new_word.ids[0]): [new_word.texts[0]]}


def test_bad_wav_fails_or_is_skipped_with_a_count(tiny_speech: Path, tmp_path: Path) -> None:
    clips = read_manifest(tiny_speech / MANIFEST)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    broken = [*clips[:2], type(clips[0])(bad, "oops", "v", 1, 1)]
    cfg = AudioConfig(n_mels=32)
    with pytest.raises(UserError, match=r"bad\.wav: not a PCM WAV audio file.*--skip-bad"):
        load_clips(broken, cfg, skip_bad=False)
    mel, kept, skipped = load_clips(broken, cfg, skip_bad=True)
    assert skipped == 1 and len(kept) == 2 and mel.shape == (2, 1, 32, 101)


def test_too_few_words_for_the_hold_out(tiny_speech: Path) -> None:
    with pytest.raises(UserError, match="heldout_words=5"):
        load_speech_pairs(
            AudioConfig(heldout_words=5, n_mels=32),
            manifest=tiny_speech / MANIFEST,
            split_seed=0,
            skip_bad=False,
        )


def test_train_data_reads_a_speech_manifest_and_a_caption_csv_as_pairs(
    tiny_speech: Path, tmp_path: Path
) -> None:
    (tmp_path / "captions.csv").write_text("image_path,caption\na.png,a cat\n")
    (tmp_path / "pairs.csv").write_text("anchor,positive\nq,a\n")
    (tmp_path / "rows.csv").write_text("path,text,label\nx,y,1\n")  # not all manifest columns
    found = {p.name: source_of(str(p)) for p in (
        tiny_speech / MANIFEST, *(tmp_path / n for n in ("captions.csv", "pairs.csv", "rows.csv"))
    )}  # fmt: skip
    assert found == {
        MANIFEST: "speech",
        "captions.csv": "caption_csv",
        "pairs.csv": "text_pairs",
        "rows.csv": "csv",
    }


def test_a_manifest_alone_trains_the_four_language_recipe(tiny_speech: Path) -> None:
    """`train --data manifest.csv` without a method: the speech recipe, key by key where
    the config is silent (here the epochs and the held-out counts are the user's)."""
    sets = [f"data.path={tiny_speech / MANIFEST}", "data.source=auto", "train.epochs=3",
            "audio.heldout_words=1", "audio.heldout_voices=1"]  # fmt: skip
    lines: list[str] = []
    cfg = settle(load_config(None, sets), lines.append).cfg
    recipe = load_config(Path("configs/audio_text_languages.yaml"))
    assert cfg.data.source == "speech" and cfg.method == recipe.method
    assert cfg.model == recipe.model and cfg.train.epochs == 3
    assert (cfg.train.lr, cfg.train.warmup_epochs) == (recipe.train.lr, recipe.train.warmup_epochs)
    assert "chose model.encoder=audio_cnn, model.width=16, model.feature_dim=128 for spoken " \
        "words (manifest.csv); set it to override" in lines  # fmt: skip
