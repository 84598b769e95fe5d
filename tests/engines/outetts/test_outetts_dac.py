"""Our torch DAC against descript-audio-codec's own modules: same parameter names, same numbers.

That is what lets ``load_dac`` read the IBM ``DAC.speech.v1.0`` checkpoint. descript-audio-codec is
imported without its package ``__init__`` (which needs descript-audiotools and argbind): those two
are replaced by inert stand-ins, since only the model classes are compared.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the DAC codec needs torch; run .ci/outetts.sh")
pytest.importorskip("einops", reason="descript-audio-codec's modules import einops; run .ci/outetts.sh")

from outetts_fixtures import TINY_DAC_KWARGS, speech_like  # noqa: E402

from voxclone.engines.outetts.dac import DAC  # noqa: E402

pytestmark = [  # descript-audio-codec uses torch APIs that now warn
    pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]


class _Inert(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "BaseModel":
            return type("BaseModel", (torch.nn.Module,), {"INTERN": [], "EXTERN": []})
        return type(name, (), {})


@pytest.fixture
def reference_dac(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    spec = importlib.util.find_spec("dac")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("descript-audio-codec is not installed (run .ci/outetts.sh)")
    root = Path(next(iter(spec.submodule_search_locations)))
    for name in list(sys.modules):
        if name == "dac" or name.startswith("dac."):
            monkeypatch.delitem(sys.modules, name)
    pkg = types.ModuleType("dac")
    pkg.__path__ = [str(root)]
    monkeypatch.setitem(sys.modules, "dac", pkg)
    stubs = {name: _Inert(name) for name in ("audiotools", "audiotools.ml", "argbind")}
    stubs["audiotools"].ml = stubs["audiotools.ml"]  # type: ignore[attr-defined]
    for name, stub in stubs.items():
        monkeypatch.setitem(sys.modules, name, stub)
    module = importlib.import_module("dac.model.dac")
    yield module
    for name in list(sys.modules):
        if name == "dac" or name.startswith("dac."):
            del sys.modules[name]


def test_state_dict_and_outputs_match_descript_audio_codec(reference_dac: types.ModuleType) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(1)
    ref = reference_dac.DAC(**TINY_DAC_KWARGS).eval()
    ours = DAC(**TINY_DAC_KWARGS)
    assert set(ours.state_dict()) == set(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)
    ours.fold()
    assert ours.hop_length == ref.hop_length == 320

    audio = speech_like(1.3)
    with torch.no_grad():
        x = torch.from_numpy(audio)[None, None]
        x = torch.nn.functional.pad(x, (0, -x.shape[-1] % 320))
        _, ref_codes, *_ = ref.encode(x)
        ref_audio = ref.decode(ref.quantizer.from_codes(ref_codes)[0])
    codes = ours.encode(audio)
    np.testing.assert_array_equal(codes, ref_codes[0].numpy())
    np.testing.assert_allclose(ours.decode(codes), ref_audio[0, 0].numpy(), atol=1e-5)
