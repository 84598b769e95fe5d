"""Server settings: command-line flags, then ``VOXCLONE_*`` environment variables, then defaults."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can tune. Units are in the field names or descriptions."""

    model_config = SettingsConfigDict(env_prefix="VOXCLONE_", extra="ignore")

    data_dir: Path = Field(default=Path("./voxclone-data"), description="SQLite database, blobs, model cache")
    database_url: str | None = Field(
        default=None, description="postgresql://… keeps metadata and blobs in PostgreSQL; default SQLite"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    engine: str = Field(default="kokoro", description="kokoro (embedded) or outetts")
    model_path: Path | None = Field(default=None, description="weights folder for engines that need one")
    require_cloning: bool = Field(
        default=True,
        description="refuse to start when cloning does not work; false serves speech only and reports "
        "cloning as unavailable in /api/v1/health",
    )
    synthesis_workers: int = Field(default=0, description="parallel synthesis jobs; 0 = sized to the machine")
    queue_size: int = Field(default=16, description="requests waiting for a worker before 503 server_busy")
    admission: Literal["capacity", "queue"] = Field(
        default="capacity",
        description="capacity: refuse a new live stream (503 server_busy) when the streams playing would "
        "use more than stream_headroom of the measured capacity; queue: only the workers + queue_size bound",
    )
    stream_headroom: float = Field(
        default=0.9, gt=0, le=1, description="share of the measured real-time capacity live streams may use"
    )
    stream_start_s: float = Field(
        default=1.0,
        gt=0,
        description="with capacity admission, a new live stream is refused (503 server_busy) when the "
        "streams still starting would delay its first audio beyond these seconds",
    )
    onnx_threads: int = Field(default=0, description="ONNX Runtime intra-op threads per job; 0 = auto")
    runtime: Literal["auto", "onnxruntime", "openvino"] = Field(
        default="auto",
        description="Kokoro's inference runtime: auto takes OpenVINO (bfloat16) on CPUs with AMX when the "
        "openvino extra is installed, ONNX Runtime (int8) elsewhere",
    )
    max_text_chars: int = 5000
    max_upload_bytes: int = 10 * 1024 * 1024
    max_json_bytes: int = Field(
        default=1024 * 1024,
        description="largest JSON request body in bytes (413 request_too_large); never below what "
        "max_text_chars needs",
    )
    max_clones_per_account: int = 1000
    keep_reference_audio: bool = Field(
        default=True, description="keep uploaded reference (and consent) audio; false keeps only its SHA-256"
    )
    require_consent: bool = Field(
        default=False,
        description="every new clone needs a spoken consent (a challenge phrase read by the speaker); "
        "accounts can override it with `voxclone admin set-consent`",
    )
    consent_challenge_ttl_s: int = Field(
        default=900, ge=30, le=86400, description="seconds a consent challenge stays valid (once)"
    )
    clone_cost: Decimal = Decimal("0.025")
    cost_per_second: Decimal = Decimal("0.001")
    initial_credits: Decimal = Decimal("10")
    watermark: bool = Field(
        default=True,
        description="mark every generated clip with an inaudible watermark (server id, account hash); "
        "VOXCLONE_WATERMARK=off disables it",
    )
    server_id: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="id carried by the watermark (0-65535); default: derived from the PostgreSQL "
        "database, else drawn once and kept in data_dir/server_id",
    )
    hold_timeout_s: int = Field(
        default=300,
        ge=1,
        description="seconds after which a credit hold its server stopped refreshing (a crashed replica) "
        "is settled by another server to the audio it had delivered",
    )
    similarity_claim_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="seconds after which a clone self-check claimed by a server that stopped (a crashed "
        "replica) is taken over by another; longer than the slowest self-check",
    )
    similarity_poll_s: float = Field(
        default=5.0,
        gt=0,
        description="seconds between looks for clone self-checks left pending by other servers",
    )

    ws_idle_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="seconds a WebSocket session may go without text (and without audio in progress) "
        "before it is closed with idle_timeout",
    )

    def resolved_workers(self) -> int:
        """Synthesis jobs run at once: the configured number, else one per two cores (at least 1)."""
        if self.synthesis_workers > 0:
            return self.synthesis_workers
        return max(1, (os.cpu_count() or 2) // 2)

    def resolved_onnx_threads(self) -> int:
        """Intra-op threads of one synthesis job: the configured number, else the cores shared out
        between the workers (at least 1), so that busy workers do not oversubscribe the CPU."""
        if self.onnx_threads > 0:
            return self.onnx_threads
        return max(1, (os.cpu_count() or 2) // self.resolved_workers())

    def parallel_jobs(self) -> float:
        """Synthesis jobs the cores can run at once at full speed: cores / threads per job."""
        return (os.cpu_count() or 1) / self.resolved_onnx_threads()

    def json_body_limit(self) -> int:
        """Bytes a JSON body may hold: ``max_json_bytes``, raised if needed so that ``max_text_chars``
        characters always fit (12 bytes each: an escaped surrogate pair) with 64 KiB for the rest."""
        return max(self.max_json_bytes, 12 * self.max_text_chars + 64 * 1024)

    def cache_dir(self) -> Path:
        """Folder for assembled model files and other derived caches."""
        return self.data_dir / "cache"
