"""Spoken words in several languages: the concept table, the manifest espeak-ng makes
(languages, voices, concepts as groups), the held-out split per language (a held-out voice
is never trained on), and the cached manifest spoken again for other languages."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import torch
from tests.multimodal.few_clips import speak_few

from contrastkit.audio.languages import LANGUAGES, VOICES, concept_table
from contrastkit.audio.speech import MANIFEST, SpeechPlan, read_manifest, speech_plan
from contrastkit.config import AudioConfig
from contrastkit.data import speech_pairs
from contrastkit.data.pairs import PairSplit
from contrastkit.data.speech_pairs import load_clips, load_speech_pairs, split_clips
from contrastkit.errors import UserError


def test_concept_table_has_every_concept_in_every_language() -> None:
    table = concept_table()
    assert len(table) == 84 and LANGUAGES == ("en", "de", "fr", "es")
    assert table["apple"] == {"en": "apple", "de": "Apfel", "fr": "pomme", "es": "manzana"}
    assert table["good night"]["es"] == "buenas noches"
    for lang in LANGUAGES:
        texts = [words[lang] for words in table.values()]
        assert len(set(texts)) == 84  # no two concepts share a text in one language
    assert all(words["en"] == concept for concept, words in table.items())


def test_default_plan_languages_voices_and_held_out_split() -> None:
    """The recipe's manifest without speaking it: 84 concepts x 4 languages x 8 voices x 2
    speeds x 2 pitches; 16 concepts and 2 voices per language held out."""
    clips = speech_plan("cache", languages=LANGUAGES).clips
    assert len(clips) == 84 * 4 * 8 * 4 == 10752
    assert Counter(c.language for c in clips) == {lang: 84 * 8 * 4 for lang in LANGUAGES}
    assert {c.voice for c in clips if c.language == "de"} == set(VOICES["de"])
    assert len({c.path for c in clips}) == len(clips)  # one file per clip
    cfg = AudioConfig(languages=list(LANGUAGES), heldout_words=16, heldout_voices=2)
    ids, new_word, new_voice = split_clips(clips, cfg, 0, where="plan")
    train = ~new_word & ~new_voice
    assert int(train.sum()) == 68 * 4 * 6 * 4 == 6528
    assert int((~new_word & new_voice).sum()) == 68 * 4 * 2 * 4 == 2176
    assert int((new_word & ~new_voice).sum()) == 16 * 4 * 6 * 4 == 1536
    held = {c.voice for c, new in zip(clips, new_voice.tolist(), strict=True) if new}
    trained = {c.voice for c, t in zip(clips, train.tolist(), strict=True) if t}
    assert held == {v for lang in LANGUAGES for v in VOICES[lang][-2:]} and not held & trained
    assert {v.split("+")[1] for v in held} == {"m4", "f3"}  # no language trains them
    assert not {v.split("+")[1] for v in trained} & {"m4", "f3"}
    apple = {int(i) for c, i in zip(clips, ids.tolist(), strict=True) if c.concept == "apple"}
    assert len(apple) == 1  # "apple", "Apfel", "pomme", "manzana": one group


def test_every_voice_of_a_language_speaks_differently(tmp_path: Path) -> None:
    """espeak-ng takes some voice names and speaks them like another (1.51: `fr-fr+m4` as
    `fr-fr+m1`); a held-out voice equal to a training voice would not be new."""
    for lang in LANGUAGES:
        manifest = speak_few(tmp_path / lang, {lang: VOICES[lang]}, ("apple",))
        sounds = {c.path.read_bytes() for c in read_manifest(manifest)}
        assert len(sounds) == len(VOICES[lang]) == 8, lang


@pytest.fixture(scope="module")
def two_languages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 concepts in German and French, 3 voices each, one speed and pitch: 18 clips."""
    out = tmp_path_factory.mktemp("speech")
    voices = {"de": ("de+m1", "de+f2", "de+m4"), "fr": ("fr+m1", "fr+f2", "fr+m4")}
    speak_few(out, voices, ("apple", "river", "good night"))
    return out


def test_manifest_names_language_and_concept(two_languages: Path) -> None:
    clips = read_manifest(two_languages / MANIFEST)
    assert len(clips) == 18 and Counter(c.language for c in clips) == {"de": 9, "fr": 9}
    assert {c.text for c in clips if c.language == "de"} == {"Apfel", "Fluss", "gute Nacht"}
    assert {c.text for c in clips if c.language == "fr"} == {"pomme", "rivière", "bonne nuit"}
    assert {c.concept for c in clips} == {"apple", "river", "good night"}


def test_held_out_voice_is_never_trained_on(two_languages: Path) -> None:
    manifest = two_languages / MANIFEST
    cfg = AudioConfig(languages=["de", "fr"], heldout_words=1, heldout_voices=1, n_mels=32)
    data = load_speech_pairs(cfg, manifest=manifest, split_seed=0, skip_bad=False)
    train, voices, words = data.train, data.tests["heldout_voices"], data.tests["heldout_words"]
    # 2 concepts x 2 languages x 2 voices; x 1 held-out voice; 1 concept x 2 x 2
    assert (len(train.texts), len(voices.texts), len(words.texts)) == (8, 4, 4)
    assert Counter(voices.languages) == {"de": 2, "fr": 2}
    assert set(words.texts).isdisjoint(train.texts)
    # the clips of the held-out voices, preprocessed as training: each is a held-out row,
    # none a training row
    mean, std = data.input_stats or (0.0, 1.0)
    held = [c for c in read_manifest(manifest) if c.voice in {"de+m4", "fr+m4"}]
    mel = (load_clips(held, cfg, skip_bad=False)[0] - mean) / std  # (6, 1, 32, 101)
    for clip_mel, clip in zip(mel, held, strict=True):
        in_test = [torch.allclose(clip_mel, x, atol=1e-5) for x in (*voices.x, *words.x)]
        assert sum(in_test) == (clip.concept not in words_concepts(data))
        assert not any(torch.allclose(clip_mel, x, atol=1e-5) for x in train.x)
    # a concept's German and French texts are one group, and both are its prompts
    (word_id,) = set(words.ids.tolist())
    assert sorted(words.prompts[word_id]) == sorted(set(words.texts))
    assert len(words.prompts[word_id]) == 2


def words_concepts(data: speech_pairs.PairData) -> set[str]:
    """The held-out concepts, by their German text."""
    german = {"Apfel": "apple", "Fluss": "river", "gute Nacht": "good night"}
    split = data.tests["heldout_words"]
    return {german[t] for t, lang in zip(split.texts, split.languages, strict=True) if lang == "de"}


def test_a_language_with_too_few_voices_is_named(two_languages: Path) -> None:
    cfg = AudioConfig(languages=["de", "fr"], heldout_voices=3, heldout_words=1, n_mels=32)
    with pytest.raises(UserError, match="3 voices in language 'de'; need more than"):
        load_speech_pairs(cfg, manifest=two_languages / MANIFEST, split_seed=0, skip_bad=False)


def test_cached_manifest_is_spoken_again_for_other_languages(
    two_languages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(two_languages, cache)
    calls: list[tuple[str, ...]] = []

    def speak(plan: SpeechPlan) -> Path:
        calls.append(tuple(dict.fromkeys(c.language for c in plan.clips)))
        return plan.out_dir / MANIFEST

    monkeypatch.setattr(speech_pairs, "synthesize_speech", speak)
    same = AudioConfig(cache_dir=str(cache), languages=["fr", "de"])
    assert speech_pairs.cached_manifest(same, print) == cache / MANIFEST and calls == []
    more = AudioConfig(cache_dir=str(cache), languages=["de", "fr", "es"])
    speech_pairs.cached_manifest(more, print)
    assert calls == [("de", "fr", "es")]


def test_old_manifest_without_languages_reads_as_before(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("path,text,voice,speed,pitch\na.wav,apple,v1,150,35\n")
    (clip,) = read_manifest(tmp_path / MANIFEST)
    assert (clip.language, clip.concept, clip.text) == ("", "apple", "apple")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UserError, match="choose from en, de, fr, es"):
        speech_plan("cache", languages=("en", "xx"))
    with pytest.raises(ValueError, match="choose distinct languages among en, de, fr, es"):
        AudioConfig(languages=["en", "en"])


def test_the_picture_takes_one_sample_per_concept_in_each_language_in_turn() -> None:
    texts = ["apple", "Apfel", "river", "Fluss", "pomme", "tiger", "Tiger", "Fluss"]
    languages = ["en", "de", "en", "de", "fr", "en", "de", "de"]
    ids = torch.tensor([0, 0, 1, 1, 0, 2, 2, 1])
    split = PairSplit(torch.zeros(8, 1), texts, ids, languages=languages)
    # concepts in split order 0, 1, 2; languages in turn de, en, fr: Apfel, river, (no fr) tiger
    assert split.one_per_group(3) == [1, 2, 5]
    assert split.one_per_group(2) == [1, 2]
    plain = PairSplit(torch.zeros(3, 1), ["a", "b", "a"], torch.tensor([4, 5, 4]))
    assert plain.one_per_group(16) == [0, 1]
