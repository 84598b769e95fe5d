"""Finding OuteTTS weights: a local folder first, the model hub only when allowed and online.

Expected folder layout (``voxclone serve --engine outetts --model-path DIR``)::

    DIR/OuteTTS-1.0-0.6B-Q8_0.gguf          any *.gguf (the first in name order is used), or
    DIR/config.json + *.safetensors + tokenizer   a transformers checkpoint (used when no *.gguf)
    DIR/weights_24khz_1.5kbps_v1.0.pth      IBM DAC.speech.v1.0 24 kHz codec (any *.pth also accepted)
    DIR/whisper/                            optional faster-whisper model for enrollment
    DIR/speakers/*.json                     optional OuteTTS speaker profiles = built-in voices
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from voxclone.deps_optional import require
from voxclone.errors import EngineUnavailable

GGUF_REPO = "OuteAI/OuteTTS-1.0-0.6B-GGUF"
GGUF_FILE = "OuteTTS-1.0-0.6B-Q8_0.gguf"
DAC_REPO = "ibm-research/DAC.speech.v1.0"
DAC_FILE = "weights_24khz_1.5kbps_v1.0.pth"

DOWNLOAD_HINT = (
    f"download https://huggingface.co/{GGUF_REPO}/resolve/main/{GGUF_FILE} and "
    f"https://huggingface.co/{DAC_REPO}/resolve/main/{DAC_FILE} into one folder and start with "
    "--model-path FOLDER (see docs/outetts.md)"
)


@dataclass(frozen=True)
class WeightFiles:
    """Resolved weight locations."""

    gguf: Path | None
    dac: Path
    whisper: Path | None
    speakers: tuple[Path, ...]
    transformers_dir: Path | None = None


def find_local(folder: Path) -> WeightFiles:
    """Resolve weights inside ``folder``; ``EngineUnavailable`` naming what is missing."""
    folder = Path(folder)
    if folder.is_file() and folder.suffix == ".gguf":
        folder, gguf_files = folder.parent, [folder]
    elif folder.is_dir():
        gguf_files = sorted(folder.glob("*.gguf"))
    else:
        raise EngineUnavailable(
            f"OuteTTS model folder {folder} does not exist; {DOWNLOAD_HINT}", code="model_missing"
        )
    dac_files = [folder / DAC_FILE] if (folder / DAC_FILE).is_file() else sorted(folder.glob("*.pth"))
    hf_dir = folder if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) else None
    missing = []
    if not gguf_files and hf_dir is None:
        missing.append(f"an OuteTTS-1.0 GGUF ({GGUF_FILE})")
    if not dac_files:
        missing.append(f"the DAC codec ({DAC_FILE})")
    if missing:
        raise EngineUnavailable(
            f"{folder} lacks {' and '.join(missing)}; {DOWNLOAD_HINT}",
            code="model_missing",
            details={"folder": str(folder), "missing": missing},
        )
    whisper = folder / "whisper"
    return WeightFiles(
        gguf=gguf_files[0] if gguf_files else None,
        dac=dac_files[0],
        whisper=whisper if (whisper / "model.bin").is_file() else None,
        speakers=tuple(sorted((folder / "speakers").glob("*.json"))),
        transformers_dir=hf_dir,
    )


def download(cache_dir: Path) -> WeightFiles:
    """Fetch the default GGUF and DAC from the model hub into ``cache_dir`` (needs network).

    Raises ``EngineUnavailable`` with the manual-download instructions when offline.
    """
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise EngineUnavailable(
            f"no --model-path given and HF_HUB_OFFLINE=1; {DOWNLOAD_HINT}", code="model_missing"
        )
    hub = require("huggingface_hub", extra="outetts", package="huggingface-hub")
    target = Path(cache_dir) / "outetts"
    try:
        gguf = hub.hf_hub_download(repo_id=GGUF_REPO, filename=GGUF_FILE, local_dir=str(target))
        dac = hub.hf_hub_download(repo_id=DAC_REPO, filename=DAC_FILE, local_dir=str(target))
    except Exception as e:
        raise EngineUnavailable(
            f"could not download OuteTTS weights ({e}); {DOWNLOAD_HINT}", code="model_missing"
        ) from e
    return find_local(Path(gguf).parent if Path(gguf).parent == Path(dac).parent else target)
