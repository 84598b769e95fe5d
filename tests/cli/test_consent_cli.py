"""``voxclone consent challenge|show`` and ``clone create --consent`` against the real server
(Kokoro engine, real Whisper tiny.en), through the SDK's ``client.consent`` and
``voice_clones.create(consent_challenge_id=, consent_audio=)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone.cli import main
from voxclone.cli.client_cmds import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE


def run(server: Any, key: str, *argv: str) -> int:
    return main([*argv, "--api-key", key, "--base-url", server.base_url])


def test_consent_challenge_then_clone_with_the_recording(
    server: Any,
    needs_cloning: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    key = server.new_key(credits="1")
    reference = str(server.reference_wav)  # en-male-1

    # --consent without any challenge made: a usage error, nothing sent
    consent = tmp_path / "consent.wav"
    consent.write_bytes(b"RIFF")
    assert (
        run(server, key, "clone", "create", reference, "--name", "x", "--consent", str(consent)) == EXIT_USAGE
    )
    capsys.readouterr()

    assert run(server, key, "consent", "challenge", "--json") == EXIT_OK
    challenge = json.loads(capsys.readouterr().out)
    assert challenge["challenge_id"].startswith("cc_") and "synthetic copy" in challenge["phrase"]
    audio = server.engine.generate(challenge["phrase"], server.engine.builtin_profile("en-male-1"))
    sf.write(consent, np.asarray(audio, np.float32), server.engine.sample_rate, subtype="PCM_16")

    # the challenge remembered by `consent challenge` is used without --challenge
    assert (
        run(server, key, "clone", "create", reference, "--name", "me", "--consent", str(consent), "--json")
        == 0
    )
    voice_id = json.loads(capsys.readouterr().out)["voice_id"]
    assert run(server, key, "consent", "show", voice_id) == EXIT_OK
    shown = capsys.readouterr().out
    assert voice_id in shown and challenge["challenge_id"] in shown and "speaker: " in shown

    from voxclone.client import Client

    with Client(key, base_url=server.base_url) as client:
        evidence = client.voice_clones.retrieve_consent(voice_id)
        assert evidence.challenge_id == challenge["challenge_id"]
        assert evidence.speaker_score is not None and evidence.word_score >= 0.8
        client.voice_clones.delete(voice_id)
    assert run(server, key, "consent", "show", voice_id) == EXIT_NOT_FOUND
