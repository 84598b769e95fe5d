"""Tiny random-weight OuteTTS stand-ins built by the tests: a llama.cpp GGUF and a DAC checkpoint.

The GGUF uses the OuteTTS v3 vocabulary layout (byte-level BPE plus every OuteTTS special token)
on a 1-layer, 32-wide llama; the DAC has the IBM speech codec's rates (24 kHz, hop 320, 2x1024
codebooks) at a tiny width. Neither speaks: they exercise loading, prompting, token parsing,
decoding and streaming.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxclone.engines.outetts.prompt import vocabulary_specials

TINY_DAC_KWARGS = {
    "encoder_dim": 4,
    "encoder_rates": [2, 4, 5, 8],
    "decoder_dim": 16,
    "decoder_rates": [8, 5, 4, 2],
    "n_codebooks": 2,
    "codebook_size": 1024,
    "codebook_dim": 8,
    "sample_rate": 24000,
}


def _byte_tokens() -> list[str]:
    # GPT-2's reversible byte → printable-unicode table.
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs, strict=True))
    return [chr(table[b]) for b in range(256)]


def write_tiny_gguf(
    path: Path, *, seed: int = 0, n_embd: int = 32, n_ff: int = 64, n_ctx: int = 8192
) -> list[str]:
    """Write a random llama GGUF with the OuteTTS vocabulary; return its token strings."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens = [*_byte_tokens(), "Ġt", *vocabulary_specials()]
    n_byte = 257
    types = [gguf.TokenType.NORMAL] * n_byte + [gguf.TokenType.CONTROL] * (len(tokens) - n_byte)
    n_vocab, n_head = len(tokens), 2
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("voxclone-tiny-outetts")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(1)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(["Ġ t"])
    w.add_bos_token_id(tokens.index("<|im_start|>"))
    w.add_eos_token_id(tokens.index("<|im_end|>"))
    w.add_add_bos_token(False)

    def t(name: str, *shape: int, scale: float = 0.2) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", n_vocab, n_embd, scale=1.0)
    w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    t("output.weight", n_vocab, n_embd, scale=1.0)
    w.add_tensor("blk.0.attn_norm.weight", np.ones(n_embd, np.float32))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(n_embd, np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        t(f"blk.0.{name}.weight", n_embd, n_embd)
    t("blk.0.ffn_gate.weight", n_ff, n_embd)
    t("blk.0.ffn_up.weight", n_ff, n_embd)
    t("blk.0.ffn_down.weight", n_embd, n_ff)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tokens


def write_tiny_dac(path: Path, *, seed: int = 0) -> None:
    """Write a random tiny DAC checkpoint in descript-audio-codec's file layout."""
    import torch

    from voxclone.engines.outetts.dac import DAC, save_dac

    torch.manual_seed(seed)
    model = DAC(**TINY_DAC_KWARGS)
    with torch.no_grad():
        model.decoder.model[-2].weight_g.mul_(0.1)  # keep the random output off tanh's rails
    save_dac(model, path, kwargs=TINY_DAC_KWARGS)


def tiny_dac(*, seed: int = 0) -> object:
    """A folded random tiny DAC in memory (torch limited to one thread: the CI box is shared)."""
    import torch

    from voxclone.engines.outetts.dac import DAC

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = DAC(**TINY_DAC_KWARGS)
    with torch.no_grad():
        model.decoder.model[-2].weight_g.mul_(0.1)
    return model.fold()


def speech_like(seconds: float, *, sample_rate: int = 24000, seed: int = 0) -> np.ndarray:
    """Deterministic voiced-ish test signal: a 140 Hz harmonic tone, syllable-rate envelope, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    env = 0.5 * (1 + np.sin(2 * np.pi * 3 * t)) ** 2
    return (0.1 * tone * env + 0.005 * rng.standard_normal(t.size)).astype(np.float32)


def write_tiny_transformers(folder: Path, *, seed: int = 0) -> None:
    """Write a random 1-layer transformers llama + fast tokenizer with the OuteTTS vocabulary."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    byte_tokens = _byte_tokens()
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(byte_tokens)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(vocabulary_specials())
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>")
    fast.save_pretrained(str(folder))
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
    )
    LlamaForCausalLM(config).save_pretrained(str(folder))
