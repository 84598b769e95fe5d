"""Kokoro word timestamps: the graph's ``durations`` output, the word mapping, ``stream_timed``."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxclone.engines.base import text_words
from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.frontend import KokoroFrontend
from voxclone.engines.kokoro.model import FRAME_SAMPLES, KokoroModel
from voxclone.engines.kokoro.timing import ChunkEdits, WordAligner, WordEmitter
from voxclone.text.normalize import normalize, normalize_mapped

TEXT = "Dr. Smith paid $42 on March 3, at 4:30 PM 🙂 — of the 1,250 tickets, 3.5% sold. Thanks!"


def _aligner(frontend: KokoroFrontend, text: str, language: str = "en-us") -> WordAligner:
    return WordAligner(text, language, lambda w: frontend.g2p.phonemize(w, language=language), frontend.vocab)


def test_durations_output_keeps_the_audio_and_sums_to_it(
    kokoro_engine: KokoroEngine, kokoro_model: KokoroModel
) -> None:
    tokens = kokoro_engine.frontend.tokenize(kokoro_engine.phonemize("The quiet river.", language="en-us"))
    style = assets.voice_packs()["jf_alpha"][len(tokens) - 1, 0]
    audio, durations = kokoro_model.infer_timed(tokens, style, 1.0)
    np.testing.assert_array_equal(audio, kokoro_model.infer(tokens, style, 1.0))
    assert durations.shape == (len(tokens) + 2,)
    assert int(durations.sum()) == audio.size
    assert np.all(durations % FRAME_SAMPLES == 0) and np.all(durations > 0)


def test_stock_graph_has_no_durations() -> None:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    stock = KokoroModel.from_session(
        ort.InferenceSession(bytes(assets.stock_model_bytes()), opts, providers=["CPUExecutionProvider"])
    )
    with pytest.raises(ValueError, match="no durations output"):
        stock.infer_timed([50, 51], np.zeros(256, np.float32))


@pytest.mark.parametrize("speed", [1.0, 0.7, 3.0])  # 3.0: the model renders 2.0, WSOLA the rest
def test_stream_timed_is_stream_with_words_in_order(kokoro_engine: KokoroEngine, speed: float) -> None:
    voice = kokoro_engine.builtin_profile(kokoro_engine.builtin_voices()[0].voice_id)
    utterance = kokoro_engine.prepare(TEXT, voice, language="en-us", speed=speed)
    plain = list(kokoro_engine.stream(utterance))
    timed = list(kokoro_engine.stream_timed(utterance))
    assert len(plain) == len(timed) > 1
    for a, chunk in zip(plain, timed, strict=True):
        np.testing.assert_array_equal(a, chunk.audio)
    words = [w for chunk in timed for w in chunk.words]
    assert [w.word for w in words] == text_words(TEXT)
    for chunk in timed:
        length = chunk.audio.size / kokoro_engine.sample_rate
        previous = 0.0
        for w in chunk.words:
            assert previous <= w.start <= w.end <= length + 1e-6
            previous = w.end
    by_word = {w.word: w for w in words}
    # "$42" spans "forty-two dollars": longer than the one-syllable word before it
    assert by_word["$42"].end - by_word["$42"].start > 2 * (by_word["paid"].end - by_word["paid"].start)
    assert by_word["🙂"].start == by_word["🙂"].end  # spoken by nothing: zero length where it stands
    spoken = [w for w in words if w.word != "🙂"]
    assert all(w.end > w.start for w in spoken)


def test_a_clone_gets_timestamps_through_its_post_stage(
    kokoro_engine: KokoroEngine, reference_wav: bytes
) -> None:
    import io

    import soundfile as sf

    audio, rate = sf.read(io.BytesIO(reference_wav), dtype="float32")
    clone = kokoro_engine.enroll(audio, rate)
    utterance = kokoro_engine.prepare("Hello there, my old friend.", clone, language="en-us")
    timed = list(kokoro_engine.stream_timed(utterance))
    np.testing.assert_array_equal(
        np.concatenate([c.audio for c in timed]), np.concatenate(list(kokoro_engine.stream(utterance)))
    )
    assert [w.word for c in timed for w in c.words] == ["Hello", "there", "my", "old", "friend"]


def test_normalize_mapped_is_normalize_and_maps_rewrites_to_their_source() -> None:
    mapped = normalize_mapped(TEXT, language="en-us")
    assert mapped.text == normalize(TEXT, language="en-us")
    at = mapped.text.index("forty-two dollars")
    assert {TEXT[mapped.starts[i] : mapped.ends[i]] for i in range(at, at + 17)} == {"$42"}


def test_one_source_word_per_rewrite(kokoro_engine: KokoroEngine) -> None:
    frontend = kokoro_engine.frontend
    text = "It costs $42 on March 3."
    aligner = _aligner(frontend, text)
    prepared = frontend.prepare(text, language="en-us")
    spans = []
    for chunk in frontend.chunks(prepared):
        spans += aligner.align(chunk, np.full(len(chunk.tokens) + 2, FRAME_SAMPLES))
    assert [aligner.words[s.index] for s in spans] == text_words(text)
    dollars = spans[2]
    assert (dollars.end - dollars.start) // FRAME_SAMPLES >= len("fˈɔɹɾitˈu dˈɑləɹz") - 2


_PIECES = st.sampled_from(
    [
        "hello",
        "world",
        "The",
        "of",
        "the",
        "cat's",
        "well-known",
        "$42",
        "$3.50",
        "12 €",
        "3.5%",
        "1,250",
        "1999",
        "4:30 PM",
        "March 3",
        "3rd",
        "Dr.",
        "Mr.",
        "St.",
        "e.g.",
        "etc.",
        "&",
        "221B",
        "https://example.com/a",
        "a@b.co",
        "🙂",
        "—",
        ",",
        ".",
        "!",
        "?",
        "(yes)",
        '"quoted"',
        "\n",
        "Smith.",
        "run,",
        "U.S.",
        "ok;",
        "café",
        "naïve",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, min_size=1, max_size=40))
def test_words_cover_the_text_in_order(kokoro_engine: KokoroEngine, pieces: list[str]) -> None:
    """Over random texts (numbers, currency, abbreviations, emoji) the emitted words are exactly
    ``text_words(text)``, in order, with times that never go back within a chunk."""
    frontend = kokoro_engine.frontend
    text = " ".join(pieces)
    assert normalize_mapped(text, language="en-us").text == normalize(text, language="en-us")
    try:
        prepared = frontend.prepare(text, language="en-us")
    except Exception as e:  # only "nothing speakable" may refuse a text
        assert getattr(e, "code", None) == "empty_text"
        return
    aligner = _aligner(frontend, text)
    emitter = WordEmitter(aligner.words, 24000)
    chunks = list(frontend.chunks(prepared))
    words = []
    for k, chunk in enumerate(chunks):
        durations = np.full(len(chunk.tokens) + 2, FRAME_SAMPLES)
        length = int(durations.sum())
        edits = ChunkEdits((FRAME_SAMPLES, length - FRAME_SAMPLES), pause=1200)
        got = emitter.chunk(aligner.align(chunk, durations), edits, length + 1200, last=k == len(chunks) - 1)
        previous = 0.0
        for _, start, end in got:
            assert previous <= start <= end <= (length + 1200) / 24000
            previous = end
        words += [w for w, _, _ in got]
    assert words == text_words(text)
