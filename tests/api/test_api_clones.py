"""Voice-clone routes (fake engine, real intake): create, list, ownership, delete, idempotency, limits."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from voxclone.store import repositories as repo

CLONES = "/api/v1/voice-clones"


def _create(harness: Any, headers: dict[str, str], wav: bytes, name: str = "Me", **extra: Any) -> Any:
    return harness.client.post(
        CLONES,
        files={"audio": ("me.wav", wav, "audio/wav")},
        data={"name": name},
        headers={**headers, **extra},
    )


def _balance(harness: Any, headers: dict[str, str]) -> Decimal:
    return Decimal(harness.client.get("/api/v1/account", headers=headers).json()["data"]["balance"])


def _without_similarity(clone: dict[str, Any]) -> dict[str, Any]:
    """A clone's fields but the self-check's, which the background worker fills in any time."""
    return {k: v for k, v in clone.items() if k not in ("similarity", "similarity_status")}


def test_clone_lifecycle(harness: Any, reference_wav: bytes) -> None:
    headers = harness.new_account("1")
    r = _create(harness, headers, reference_wav)
    assert r.status_code == 201, r.text
    clone = r.json()["data"]
    assert re.fullmatch(r"vc_[0-9a-hjkmnp-tv-z]{26}", clone["voice_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", clone["created_at"])
    assert clone["name"] == "Me" and clone["duration_s"] > 3 and "score" in clone["quality"]
    vid = clone["voice_id"]
    assert _balance(harness, headers) == Decimal("0.975")

    voices = harness.client.get("/api/v1/voices", headers=headers).json()["data"]["voices"]
    assert {"voice_id": vid, "type": "clone"}.items() <= next(
        v for v in voices if v["voice_id"] == vid
    ).items()
    assert clone["similarity"] is None and clone["similarity_status"] == "pending"
    got = harness.client.get(f"{CLONES}/{vid}", headers=headers).json()["data"]
    assert _without_similarity(got) == _without_similarity(clone)  # the self-check may be done by now
    listing = harness.client.get(CLONES, headers=headers).json()["data"]
    assert [c["voice_id"] for c in listing["voice_clones"]] == [vid] and listing["has_more"] is False
    r = harness.client.post(
        "/api/v1/tts_non_stream", json={"text": "hi you", "voice_id": vid}, headers=headers
    )
    assert r.status_code == 200

    # another account sees nothing: 404, never 403
    other = harness.new_account()
    for method, path in (("GET", f"{CLONES}/{vid}"), ("DELETE", f"{CLONES}/{vid}")):
        r = harness.client.request(method, path, headers=other)
        assert (r.status_code, r.json()["code"]) == (404, "voice_not_found")
    r = harness.client.post("/api/v1/tts_non_stream", json={"text": "hi", "voice_id": vid}, headers=other)
    assert (r.status_code, r.json()["code"]) == (404, "voice_not_found")

    # delete removes the row and its blobs at once
    with harness.services.db.sessions() as session:
        row = repo.get_clone(session, account_id=harness.account_id(headers), clone_id=vid)
        keys = [row.profile_key, row.reference_key]
    assert all(harness.services.db.blobs.exists(k) for k in keys)
    r = harness.client.delete(f"{CLONES}/{vid}", headers=headers)
    assert r.status_code == 200 and r.json()["data"] == {"voice_id": vid, "deleted": True}
    assert not any(harness.services.db.blobs.exists(k) for k in keys)
    for method, path in (("GET", f"{CLONES}/{vid}"), ("DELETE", f"{CLONES}/{vid}")):
        assert harness.client.request(method, path, headers=headers).status_code == 404
    r = harness.client.post("/api/v1/tts_non_stream", json={"text": "hi", "voice_id": vid}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (404, "voice_not_found")


def test_idempotent_create(harness: Any, reference_wav: bytes) -> None:
    headers = harness.new_account("1")
    first = _create(harness, headers, reference_wav, **{"Idempotency-Key": "abc-1"})
    again = _create(harness, headers, reference_wav, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert _without_similarity(again.json()["data"]) == _without_similarity(first.json()["data"])
    assert again.headers["idempotent-replayed"] == "true"
    assert _balance(harness, headers) == Decimal("0.975")
    assert harness.client.get("/api/v1/account", headers=headers).json()["data"]["usage"]["clones_held"] == 1
    r = _create(harness, headers, reference_wav, name="Other", **{"Idempotency-Key": "abc-1"})
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_key_reused")
    # keys are per account
    other = harness.new_account("1")
    r = _create(harness, other, reference_wav, **{"Idempotency-Key": "abc-1"})
    assert r.status_code == 201 and r.json()["data"]["voice_id"] != first.json()["data"]["voice_id"]


def test_limits_and_credits_refuse_before_work(make_harness: Any, reference_wav: bytes) -> None:
    harness = make_harness(max_clones_per_account=1)
    headers = harness.new_account("0.05")
    assert _create(harness, headers, reference_wav).status_code == 201
    r = _create(harness, headers, reference_wav)
    assert (r.status_code, r.json()["code"]) == (409, "clone_limit_reached")
    poor = harness.new_account("0.02")
    r = _create(harness, poor, reference_wav)
    assert (r.status_code, r.json()["code"]) == (402, "insufficient_credits")
    assert _balance(harness, poor) == Decimal("0.02")
    assert _balance(harness, headers) == Decimal("0.025")


def test_bad_audio_creates_and_charges_nothing(harness: Any) -> None:
    headers = harness.new_account("1")
    r = _create(harness, headers, b"this is not audio at all" * 100)
    assert r.status_code in (415, 422) and r.json()["code"] in (
        "unsupported_audio_format",
        "unreadable_audio",
    )
    assert _balance(harness, headers) == Decimal("1")
    assert harness.client.get(CLONES, headers=headers).json()["data"]["voice_clones"] == []
    blobs_dir = harness.services.settings.data_dir / "blobs"
    assert not any(p.is_file() for p in blobs_dir.rglob("*")) if blobs_dir.exists() else True


def test_pagination_newest_first(make_harness: Any, reference_wav: bytes) -> None:
    harness = make_harness()
    headers = harness.new_account("1")
    ids = [
        _create(harness, headers, reference_wav, name=f"v{i}").json()["data"]["voice_id"] for i in range(3)
    ]
    page = harness.client.get(CLONES, params={"limit": 2}, headers=headers).json()["data"]
    assert [c["voice_id"] for c in page["voice_clones"]] == ids[::-1][:2] and page["has_more"]
    rest = harness.client.get(
        CLONES, params={"limit": 2, "after": page["next_cursor"]}, headers=headers
    ).json()
    assert [c["voice_id"] for c in rest["data"]["voice_clones"]] == [ids[0]]
    r = harness.client.get(CLONES, params={"limit": 0}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_racing_creates_respect_the_limit_atomically(make_harness: Any, reference_wav: bytes) -> None:
    from concurrent.futures import ThreadPoolExecutor

    harness = make_harness(max_clones_per_account=1, synthesis_workers=2)
    headers = harness.new_account("1")
    with ThreadPoolExecutor(3) as ex:
        codes = sorted(
            r.status_code for r in ex.map(lambda i: _create(harness, headers, reference_wav), range(3))
        )
    assert codes == [201, 409, 409]
    assert _balance(harness, headers) == Decimal("0.975")
    with harness.services.db.sessions() as session:
        (row,) = repo.list_clones(session, account_id=harness.account_id(headers), limit=10)
    if harness.services.db.is_sqlite:
        harness.services.checks.close()  # the background self-check may be changing the blobs
        stored = {
            p.parent.name for p in (harness.services.settings.data_dir / "blobs").rglob("*") if p.is_file()
        }
        assert stored == {row.id}


def test_the_two_durations_are_documented_and_mean_what_they_say(harness: Any, reference_wav: bytes) -> None:
    """Top-level ``duration_s``: audio the voice was made from; ``quality.duration_s``: the upload."""
    import io

    import soundfile as sf

    headers = harness.new_account("1")
    clone = _create(harness, headers, reference_wav).json()["data"]
    upload_s = sf.info(io.BytesIO(reference_wav)).duration
    assert clone["quality"]["duration_s"] == round(upload_s, 2)
    assert 3.0 < clone["duration_s"] < clone["quality"]["duration_s"]  # silence trimmed
    schemas = harness.client.get("/openapi.json").json()["components"]["schemas"]
    top = schemas["VoiceClonePublic"]["properties"]["duration_s"]["description"]
    upload = schemas["QualityPublic"]["properties"]["duration_s"]["description"]
    assert "made from" in top and "quality.duration_s" in top
    assert "uploaded recording" in upload and "top-level `duration_s`" in upload


def test_valid_wav_at_an_unsupported_rate_is_named(harness: Any) -> None:
    """A well-formed 2 kHz WAV is not "corrupt or truncated": the answer names its sample rate."""
    import io

    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.zeros(2000 * 6, np.float32), 2000, format="WAV", subtype="PCM_16")
    headers = harness.new_account("1")
    r = _create(harness, headers, buf.getvalue())
    body = r.json()
    assert (r.status_code, body["code"]) == (422, "unsupported_sample_rate"), body
    assert "2000 Hz" in body["message"] and body["sample_rate"] == 2000
    assert _balance(harness, headers) == Decimal("1")
