"""Load pieces of the installed ``outetts`` library without running its package ``__init__``.

``outetts/__init__.py`` imports every backend (torch, whisper, llama.cpp...). The conformance tests
need only the v3 prompt processor and feature code, so this loads those modules under a private
package name, with the unrelated modules they import at top level (DAC loader, Whisper, MeCab,
uroman) replaced by empty stand-ins for the duration of the import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import pytest

ALIAS = "_outetts_ref"


def outetts_dir() -> Path:
    spec = importlib.util.find_spec("outetts")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("outetts is not installed (run .ci/outetts.sh: pip install --no-deps outetts)")
    return Path(next(iter(spec.submodule_search_locations)))


def _package(name: str, path: Path) -> None:
    if name not in sys.modules:
        mod = types.ModuleType(name)
        mod.__path__ = [str(path)]
        sys.modules[name] = mod


def load(module: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Import ``outetts.<module>`` (e.g. ``version.v3.prompt_processor``) as ``_outetts_ref.<module>``."""
    root = outetts_dir()
    _package(ALIAS, root)
    for sub in ("version", "version.v3", "utils", "dac", "whisper"):
        _package(f"{ALIAS}.{sub}", root / sub.replace(".", "/"))
    stubs = {
        f"{ALIAS}.dac.interface": {"DacInterface": object},
        f"{ALIAS}.whisper.transcribe": {"transcribe_once_word_level": None},
        "MeCab": {},
        "uroman": {},
    }
    for name, attrs in stubs.items():
        if name not in sys.modules:
            stub = types.ModuleType(name)
            for k, v in attrs.items():
                setattr(stub, k, v)
            monkeypatch.setitem(sys.modules, name, stub)
    return importlib.import_module(f"{ALIAS}.{module}")


def default_speaker_path() -> Path:
    return outetts_dir() / "version" / "v3" / "default_speakers" / "json" / "en-female-1-neutral.json"
