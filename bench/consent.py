"""Consent checks on real speech: false accepts / false rejects of the word check and the speaker
check, and the speaker threshold they support. Writes ``bench/results/consent.json``.

Data: ``../shared/data/speech-dev`` (LibriSpeech; five speakers with ten utterances each, sixty
single-utterance strangers; no transcripts). The speaker check compares d-vectors (the engine's
encoder, ``voxclone.audio.speaker``): *genuine* pairs are one speaker's different utterances
(another day, another text), *impostor* pairs are utterances of two different speakers.

The word check is measured where the data allows it: false accepts on every real utterance (none
says the phrase) and on replayed consent phrases (a phrase rendered for an older challenge, with
other random words); false rejects on the phrase rendered by the built-in Kokoro voices, clean and
with noise at 20 dB SNR (speech-dev holds no reading of a consent phrase).

Usage: ``python bench/consent.py [--data DIR] [--voices 7] [--speakers-only] [--per-speaker K]
[--strangers M] [--out FILE]`` (``bench/provenance.py`` runs it together with the watermark bench).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from _loadlib import cpu_info
from voxclone.audio.speaker import SpeakerEncoder, resample
from voxclone.consent.check import SPEAKER_THRESHOLD
from voxclone.consent.phrase import check_words, new_phrase

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent.parent / "shared" / "data" / "speech-dev"


def load_index(data: Path) -> list[tuple[str, Path]]:
    with (data / "index.tsv").open() as f:
        return [(row["speaker"], data / row["file"]) for row in csv.DictReader(f, delimiter="\t")]


def select(
    items: list[tuple[str, Path]], *, per_speaker: int | None, strangers: int | None
) -> list[tuple[str, Path]]:
    """The first ``per_speaker`` utterances of each repeated speaker and the first ``strangers``
    single-utterance speakers (``None``: all of them), in index order."""
    counts: dict[str, int] = {}
    for speaker, _ in items:
        counts[speaker] = counts.get(speaker, 0) + 1
    kept: list[tuple[str, Path]] = []
    seen: dict[str, int] = {}
    singles = 0
    for speaker, path in items:
        if counts[speaker] == 1:
            singles += 1
            if strangers is None or singles <= strangers:
                kept.append((speaker, path))
            continue
        seen[speaker] = seen.get(speaker, 0) + 1
        if per_speaker is None or seen[speaker] <= per_speaker:
            kept.append((speaker, path))
    return kept


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> dict[str, float]:
    return {
        "threshold": round(threshold, 3),
        "false_reject_rate": round(float(np.mean(genuine < threshold)), 4),
        "false_accept_rate": round(float(np.mean(impostor >= threshold)), 4),
    }


def speaker_bench(items: list[tuple[str, Path]], encoder: SpeakerEncoder) -> dict[str, Any]:
    embs = []
    for _, path in items:
        audio, sr = sf.read(path, dtype="float32")
        embs.append(encoder.embed(audio, sr))
    e = np.stack(embs)
    sims = e @ e.T
    genuine, impostor = [], []
    for i, j in itertools.combinations(range(len(items)), 2):
        (genuine if items[i][0] == items[j][0] else impostor).append(float(sims[i, j]))
    g, imp = np.array(genuine), np.array(impostor)
    grid = np.round(np.arange(0.3, 0.96, 0.01), 3)
    sweep = [rates(g, imp, float(t)) for t in grid]
    eer = min(sweep, key=lambda r: abs(r["false_reject_rate"] - r["false_accept_rate"]))
    return {
        "genuine_pairs": len(g),
        "impostor_pairs": len(imp),
        "genuine_cosine": {
            "mean": round(float(g.mean()), 3),
            "p05": round(float(np.percentile(g, 5)), 3),
            "min": round(float(g.min()), 3),
        },
        "impostor_cosine": {
            "mean": round(float(imp.mean()), 3),
            "p99": round(float(np.percentile(imp, 99)), 3),
            "max": round(float(imp.max()), 3),
        },
        "equal_error": eer,
        "at_server_threshold": rates(g, imp, SPEAKER_THRESHOLD),
        "sweep": sweep[::5],
    }


def word_bench(items: list[tuple[str, Path]], voices: int) -> dict[str, Any]:
    from voxclone.consent.asr import Recognizer
    from voxclone.engines.registry import create_engine
    from voxclone.settings import Settings

    recognizer = Recognizer(threads=1)
    real_accepts = 0
    for _, path in items:
        audio, sr = sf.read(path, dtype="float32")
        phrase = new_phrase()
        heard = recognizer.transcribe(resample(audio, sr, 16000))
        real_accepts += check_words(heard=heard, statement=phrase.statement, words=phrase.words).accepted
    cache = Path(os.environ.get("VOXCLONE_TEST_CACHE", "/tmp/voxclone-test-cache"))
    engine = create_engine(Settings(data_dir=cache, onnx_threads=1))
    rng = np.random.default_rng(0)
    genuine: list[dict[str, Any]] = []
    replay_accepts = replays = 0
    for voice in [v.voice_id for v in engine.builtin_voices()][:voices]:
        phrase = new_phrase()
        audio = resample(
            engine.generate(phrase.text, engine.builtin_profile(voice)), engine.sample_rate, 16000
        )
        noise = rng.standard_normal(len(audio)).astype(np.float32)
        noise *= np.sqrt(np.mean(audio**2) / np.mean(noise**2) / 10 ** (20 / 10))
        for condition, clip in (("clean", audio), ("noise_20db", audio + noise)):
            heard = recognizer.transcribe(clip)
            verdict = check_words(heard=heard, statement=phrase.statement, words=phrase.words)
            genuine.append(
                {
                    "voice": voice,
                    "condition": condition,
                    "accepted": verdict.accepted,
                    "score": verdict.score,
                    "check_words": list(phrase.words),
                    "check_words_heard": list(verdict.words_heard),
                    "heard": heard,
                }
            )
            for _ in range(5):  # the same recording replayed against five newer challenges
                newer = new_phrase()
                replays += 1
                replay_accepts += check_words(
                    heard=heard, statement=newer.statement, words=newer.words
                ).accepted
    engine.close()
    rejected = sum(not g["accepted"] for g in genuine)
    return {
        "real_speech_false_accepts": {"accepted": real_accepts, "utterances": len(items)},
        "replay_false_accepts": {"accepted": replay_accepts, "replays": replays},
        "phrase_false_rejects": {"rejected": rejected, "readings": len(genuine)},
        "readings": genuine,
    }


def evaluate(
    data: Path,
    *,
    voices: int = 7,
    speakers_only: bool = False,
    per_speaker: int | None = None,
    strangers: int | None = None,
) -> dict[str, Any]:
    """The speaker check's and (unless ``speakers_only``) the word check's error rates, without
    the CPU description (the caller adds it)."""
    items = select(load_index(data), per_speaker=per_speaker, strangers=strangers)
    start = time.perf_counter()
    result: dict[str, Any] = {"data": str(data.name), "utterances": len(items)}
    result["speaker_check"] = speaker_bench(items, SpeakerEncoder.from_package(threads=1))
    if not speakers_only:
        result["word_check"] = word_bench(items, voices)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This bench's size options (shared with ``bench/provenance.py``)."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--voices", type=int, default=7, help="built-in voices reading a phrase (1–7)")
    parser.add_argument("--speakers-only", action="store_true", help="skip the word check (no ASR)")
    parser.add_argument("--per-speaker", type=int, help="utterances of each repeated speaker (default all)")
    parser.add_argument("--strangers", type=int, help="single-utterance speakers (default all)")


def evaluate_args(args: argparse.Namespace) -> dict[str, Any]:
    return evaluate(
        args.data,
        voices=args.voices,
        speakers_only=args.speakers_only,
        per_speaker=args.per_speaker,
        strangers=args.strangers,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "consent.json")
    args = parser.parse_args()
    result: dict[str, Any] = {"cpu": cpu_info(), **evaluate_args(args)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "cpu"}, indent=2)[:4000])


if __name__ == "__main__":
    main()
