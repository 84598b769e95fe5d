"""OuteTTS engine end to end on tiny random weights: load → enroll → generate → stream.

The GGUF (OuteTTS vocabulary layout, 1-layer llama) and the DAC (IBM speech codec rates, tiny width)
are built here with random weights, so the audio is noise: these tests check loading through the
registry, token parsing, shapes, context planning, determinism and stream continuity.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is part of voxclone[outetts]; run .ci/outetts.sh")
pytest.importorskip("torch", reason="the DAC codec needs torch; run .ci/outetts.sh")
pytest.importorskip("gguf", reason="the test model is written with the gguf package; run .ci/outetts.sh")

from outetts_fixtures import speech_like, write_tiny_dac, write_tiny_gguf

from voxclone.engines.outetts import prompt as P
from voxclone.engines.outetts.backend import generate_tokens
from voxclone.engines.outetts.engine import OuteTTSEngine
from voxclone.engines.registry import create_engine
from voxclone.errors import EngineUnavailable, Unprocessable
from voxclone.settings import Settings
from voxclone.voices.profile import VoiceProfile

TRANSCRIPT = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("outetts-model")
    write_tiny_gguf(d / "OuteTTS-1.0-tiny-random.gguf")
    write_tiny_dac(d / "weights_24khz_1.5kbps_v1.0.pth")
    return d


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> Iterator[OuteTTSEngine]:
    eng = create_engine(Settings(engine="outetts", model_path=model_dir, onnx_threads=1))
    assert isinstance(eng, OuteTTSEngine)
    assert eng.info()["backend"] == "LlamaCppBackend" and eng.info()["sample_rate"] == 24000
    eng.max_new_tokens = 400
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def voice(engine: OuteTTSEngine) -> VoiceProfile:
    return VoiceProfile.from_bytes(
        engine.enroll_with_transcript(
            speech_like(3.0, sample_rate=16000), 16000, transcript=TRANSCRIPT
        ).to_bytes()
    )


def test_missing_weights_name_what_to_download(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable) as err:
        create_engine(Settings(engine="outetts", model_path=tmp_path))
    assert "OuteTTS-1.0-0.6B" in err.value.message and "DAC.speech.v1.0" in err.value.message
    assert "--model-path" in err.value.message
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    with pytest.raises(EngineUnavailable, match=r"weights_24khz_1\.5kbps_v1\.0\.pth"):
        create_engine(Settings(engine="outetts", model_path=tmp_path))


def test_enrolled_profile_is_an_outetts_speaker(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    from voxclone.engines.outetts.speaker import profile_to_speaker

    sp = profile_to_speaker(voice)
    assert sp["text"] == TRANSCRIPT
    assert [w["word"] for w in sp["words"]] == TRANSCRIPT.split()
    frames = sum(len(w["c1"]) for w in sp["words"])
    assert 0 < frames <= 3 * 75
    assert all(
        len(w["c1"]) == len(w["c2"]) and all(0 <= c < 1024 for c in w["c1"] + w["c2"]) for w in sp["words"]
    )
    assert set(sp["global_features"]) == {"energy", "spectral_centroid", "pitch"}
    again = engine.enroll_with_transcript(speech_like(3.0, sample_rate=16000), 16000, transcript=TRANSCRIPT)
    assert profile_to_speaker(again) == sp  # deterministic


def test_reference_limits(engine: OuteTTSEngine) -> None:
    with pytest.raises(Unprocessable, match="20 s"):
        engine.enroll_with_transcript(np.zeros(24000 * 21, np.float32), 24000, transcript="too long")


def test_token_parsing_matches_text_parsing(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    from voxclone.engines.outetts.speaker import profile_to_speaker

    ((ids, _budget),) = engine.plan("Hello there.", profile_to_speaker(voice))
    assert ids == engine.backend.tokenize(
        P.completion_prompt(text="Hello there.", speaker=profile_to_speaker(voice))
    )
    with engine.backend.lock:
        toks = list(
            generate_tokens(
                engine.backend, prompt=ids, max_new_tokens=200, stop=set(), sampler=engine.sampler, seed=0
            )
        )
    text = engine.backend.llm.detokenize(toks, special=True).decode("utf-8", errors="replace")
    c1, c2 = P.codes_from_text(text.replace("<|c1_1024|>", "").replace("<|c2_1024|>", ""))
    mapped = [engine._code_of[t] for t in toks if t in engine._code_of]
    ours1 = [v for b, v in mapped if b == 0][: len(c1)]
    ours2 = [v for b, v in mapped if b == 1][: len(c2)]
    assert (ours1, ours2) == (c1, c2) and len(c1) > 0


def test_generate_and_stream(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    chunks = list(engine.synthesize("Hello world. This is a small test.", voice))
    assert len(chunks) >= 2
    assert all(c.dtype == np.float32 and c.ndim == 1 and np.abs(c).max() <= 1.0 for c in chunks)
    whole = engine.generate("Hello world. This is a small test.", voice)
    np.testing.assert_array_equal(whole, np.concatenate(chunks))  # same seed → same audio
    assert 0.1 < whole.size / engine.sample_rate < 400 / 150 + 1


def test_stream_equals_offline_decode_of_same_codes(
    engine: OuteTTSEngine, voice: VoiceProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxclone.engines.outetts.speaker import profile_to_speaker

    monkeypatch.setattr(engine, "_stop", set())  # random weights may say <|audio_end|> early; run long

    ((ids, _),) = engine.plan("Streaming check.", profile_to_speaker(voice))
    pieces = list(engine._decode_stream(ids, 900, seed=5))
    assert len(pieces) >= 2 and [last for _, last in pieces] == [False] * (len(pieces) - 1) + [True]
    streamed = np.clip(np.concatenate([a for a, _ in pieces]), -1, 1)
    with engine.backend.lock:
        toks = list(
            generate_tokens(
                engine.backend,
                prompt=ids,
                max_new_tokens=900,
                stop=set(),
                sampler=engine.sampler,
                seed=5,
            )
        )
    text = engine.backend.llm.detokenize(toks, special=True).decode("utf-8", errors="replace")
    # <|c1_1024|>/<|c2_1024|> exist in the vocabulary but not in the codec; the engine skips them
    c1, c2 = P.codes_from_text(text.replace("<|c1_1024|>", "").replace("<|c2_1024|>", ""))
    offline = np.clip(engine.codec.decode(np.array([c1, c2])), -1, 1)
    assert streamed.shape == offline.shape
    np.testing.assert_allclose(streamed, offline, atol=2e-3 * max(1e-3, float(np.abs(offline).max())))


def test_plan_fits_context(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    from voxclone.engines.outetts.speaker import profile_to_speaker

    text = " ".join(["This sentence is here to make the text long enough for several chunks."] * 20)
    plan = engine.plan(text, profile_to_speaker(voice))
    assert len(plan) > 3
    assert all(len(ids) + budget <= engine.backend.context_length for ids, budget in plan)


def test_builtin_voices_from_speaker_files(model_dir: Path, voice: VoiceProfile, tmp_path: Path) -> None:
    import shutil

    from voxclone.engines.outetts.speaker import profile_to_speaker

    for f in model_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "speakers").mkdir()
    import json

    (tmp_path / "speakers" / "en-female-1-neutral.json").write_text(json.dumps(profile_to_speaker(voice)))
    eng = create_engine(Settings(engine="outetts", model_path=tmp_path, onnx_threads=1))
    [info] = eng.builtin_voices()
    assert (info.voice_id, info.language, info.gender) == ("en-female-1-neutral", "en", "female")
    assert profile_to_speaker(eng.builtin_profile("en-female-1-neutral")) == profile_to_speaker(voice)
    # the only voice answers to every OpenAI voice name (clients' defaults), male ones included
    assert {"alloy", "nova", "onyx"} <= set(info.aliases)
    assert eng.resolve_voice("onyx") == "en-female-1-neutral"
    alias = eng.builtin_profile("alloy")
    assert profile_to_speaker(alias) == profile_to_speaker(voice)
    assert alias.meta["voice_id"] == "en-female-1-neutral"
    eng.close()


def test_enroll_without_whisper_says_how_to_fix(engine: OuteTTSEngine) -> None:
    import importlib.util

    if importlib.util.find_spec("faster_whisper") is not None:
        pytest.skip("faster-whisper is installed; this checks the message without it")
    from voxclone.errors import MissingDependency

    with pytest.raises(MissingDependency, match=r"voxclone\[outetts\]"):
        engine.enroll(speech_like(2.0), 24000)


def test_kv_prefix_reuse_gives_fresh_logits(engine: OuteTTSEngine) -> None:
    backend = engine.backend
    a = backend.tokenize("<|im_start|>\n<|text_start|>hello world, one<|text_end|>")
    b = backend.tokenize("<|im_start|>\n<|text_start|>hello there, two<|text_end|>\n<|audio_start|>")
    with backend.lock:
        backend.next_logits(a)
        reused = backend.next_logits(b)
        backend.llm.reset()
        fresh = backend.next_logits(b)
        again = backend.next_logits(b)  # exact repeat: re-evaluates the last token only
    np.testing.assert_allclose(reused, fresh, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(again, fresh, rtol=1e-4, atol=1e-4)


def test_chunk_edges_are_faded(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    from voxclone.engines.outetts.engine import FADE_SAMPLES
    from voxclone.engines.outetts.speaker import profile_to_speaker

    ((ids, _),) = engine.plan("Fade check.", profile_to_speaker(voice))
    raw = np.clip(np.concatenate([a for a, _ in engine._decode_stream(ids, 300, seed=7)]), -1, 1)
    out = np.concatenate(list(engine._stream_chunk(ids, 300, seed=7)))
    assert out.shape == raw.shape and out[0] == 0 and out[-1] == 0
    np.testing.assert_array_equal(out[FADE_SAMPLES:-FADE_SAMPLES], raw[FADE_SAMPLES:-FADE_SAMPLES])
    assert np.all(np.abs(out[:FADE_SAMPLES]) <= np.abs(raw[:FADE_SAMPLES]) + 1e-7)


def test_unsupported_speed_is_a_clear_error_or_works(engine: OuteTTSEngine, voice: VoiceProfile) -> None:
    import importlib.util

    from voxclone.errors import InvalidRequest

    if importlib.util.find_spec("voxclone.audio.tempo") is None:
        with pytest.raises(InvalidRequest, match="speed"):
            list(engine.synthesize("Hi.", voice, speed=1.5))
    else:
        normal = engine.generate("Hi there.", voice)
        fast = engine.generate("Hi there.", voice, speed=1.5)
        assert 0.5 < fast.size / (normal.size / 1.5) < 1.5
