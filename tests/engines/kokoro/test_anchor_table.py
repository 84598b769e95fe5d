"""The committed anchor table must describe today's renders.

Enrollment compares a reference's d-vector and pitch with the table's, so a table built with an
older G2P, graph or analysis silently biases every clone (an earlier table read the styles' pitch
1.4 semitones high). This re-renders two anchors with ``tools/train_style_map.py``'s own code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from voxclone.engines.kokoro.cloning.styles import AnchorTable

TOOL = Path(__file__).resolve().parents[3] / "tools" / "train_style_map.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_style_map", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_weights_are_the_tools_sampling(tool: ModuleType) -> None:
    table = AnchorTable.load()
    assert len(table.weights) >= 1000
    np.testing.assert_array_equal(tool.sample_weights(len(table.weights)), table.weights)


@pytest.mark.parametrize("index", [1, 600])  # a pure pack, and a sampled blend
def test_table_rows_match_a_fresh_render(tool: ModuleType, kokoro_engine: Any, index: int) -> None:
    table = AnchorTable.load()
    cloner = kokoro_engine.cloner
    dvec, log_f0, envelope = tool.describe(
        kokoro_engine.model, cloner.encoder, cloner.packs, tool.anchor_tokens(), table.weights[index]
    )
    cosine = float(dvec @ table.dvector[index]) / float(np.linalg.norm(dvec))
    assert cosine > 0.98
    np.testing.assert_allclose(log_f0, table.log_f0[index], atol=0.03)
    np.testing.assert_allclose(envelope, table.envelope[index], atol=0.05)
