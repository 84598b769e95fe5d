"""Payload coding of the watermark: 32 payload bits, a CRC-16 and a rate-1/2 convolutional code.

The payload (:class:`Payload`: a 16-bit server id and a 16-bit hash of the account) is sent as
``32 + 16`` bits (payload, CRC-16/CCITT), plus 6 zero tail bits, through the standard K=7
convolutional code (generators 133, 171 octal): :data:`CODED_BITS` = 108 coded bits, one per
time slot of the watermark's period. The detector decodes soft values with the Viterbi algorithm
and accepts the payload only when its CRC matches (a random payload passes with p = 2^-16).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

PAYLOAD_BITS = 32
CRC_BITS = 16
_K = 7  # constraint length
_GENERATORS = (0o133, 0o171)
_TAIL = _K - 1
CODED_BITS = 2 * (PAYLOAD_BITS + CRC_BITS + _TAIL)
_STRIDE = 37  # coprime with CODED_BITS: neighbouring coded bits sit ~0.5 s apart
SLOT_OF_BIT = (np.arange(CODED_BITS) * _STRIDE) % CODED_BITS
"""Interleaver: coded bit ``i`` is sent in slot ``SLOT_OF_BIT[i]``, so a pause in the speech (no
mark under it) erases scattered bits, which the code corrects, not a burst, which it cannot."""


@dataclass(frozen=True)
class Payload:
    """What a watermark carries: ``server_id`` (0–65535) and ``account_hash`` (0–65535, see
    :func:`account_hash`)."""

    server_id: int
    account_hash: int

    def to_json(self) -> dict[str, object]:
        return {"server_id": self.server_id, "account_hash": f"{self.account_hash:04x}"}


def account_hash(account_id: str) -> int:
    """16-bit hash of an account id: the first two bytes of its SHA-256 (shown as 4 hex digits)."""
    return int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:2], "big")


def crc16(bits: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT (polynomial 0x1021, initial 0xFFFF) of a bit array, as 16 bits (MSB first)."""
    reg = 0xFFFF
    for bit in bits.astype(int):
        top = ((reg >> 15) & 1) ^ int(bit)
        reg = (reg << 1) & 0xFFFF
        if top:
            reg ^= 0x1021
    return np.array([(reg >> (15 - i)) & 1 for i in range(16)], dtype=np.uint8)


def _int_bits(value: int, width: int) -> np.ndarray:
    return np.array([(value >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.uint8)


def _bits_int(bits: np.ndarray) -> int:
    return int("".join(str(int(b)) for b in bits), 2)


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


def _convolve(bits: np.ndarray) -> np.ndarray:
    state = 0
    out = np.empty(2 * len(bits), dtype=np.uint8)
    for i, bit in enumerate(bits.astype(int)):
        reg = (bit << (_K - 1)) | state  # newest bit in the top position
        out[2 * i] = _parity(reg & _GENERATORS[0])
        out[2 * i + 1] = _parity(reg & _GENERATORS[1])
        state = reg >> 1
    return out


def encode(payload: Payload) -> np.ndarray:
    """The :data:`CODED_BITS` coded bits (0/1) of ``payload``, in slot order (interleaved)."""
    if not (0 <= payload.server_id < 1 << 16 and 0 <= payload.account_hash < 1 << 16):
        raise ValueError("server_id and account_hash must be 16-bit unsigned integers")
    info = np.concatenate([_int_bits(payload.server_id, 16), _int_bits(payload.account_hash, 16)])
    message = np.concatenate([info, crc16(info), np.zeros(_TAIL, np.uint8)])
    slots = np.empty(CODED_BITS, dtype=np.uint8)
    slots[SLOT_OF_BIT] = _convolve(message)
    return slots


def _trellis() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each next state and its two predecessors: the predecessor state, input bit, outputs."""
    states = 1 << (_K - 1)
    prev = np.zeros((states, 2), dtype=np.int64)
    outs = np.zeros((states, 2, 2), dtype=np.float64)
    inputs = np.zeros(states, dtype=np.int64)
    for nxt in range(states):
        bit = nxt >> (_K - 2)
        inputs[nxt] = bit
        for j, low in enumerate((0, 1)):
            state = ((nxt << 1) & (states - 1)) | low
            reg = (bit << (_K - 1)) | state
            prev[nxt, j] = state
            outs[nxt, j] = [1 - 2 * _parity(reg & g) for g in _GENERATORS]
    return prev, outs, inputs


def viterbi(soft: np.ndarray) -> np.ndarray:
    """Most likely message bits for soft coded values (positive means bit 0), tail included."""
    prev, outs, inputs = _trellis()
    steps = len(soft) // 2
    metric = np.full(prev.shape[0], -np.inf)
    metric[0] = 0.0
    back = np.zeros((steps, prev.shape[0]), dtype=np.int64)
    for t in range(steps):
        pair = soft[2 * t : 2 * t + 2]
        cand = metric[prev] + outs @ pair  # (states, 2)
        choice = np.argmax(cand, axis=1)
        back[t] = prev[np.arange(len(prev)), choice]
        metric = cand[np.arange(len(prev)), choice]
    state = 0  # the tail returns the encoder to state 0
    bits = np.zeros(steps, dtype=np.uint8)
    for t in range(steps - 1, -1, -1):
        bits[t] = inputs[state]
        state = back[t, state]
    return bits


def decode(soft: np.ndarray) -> Payload | None:
    """The payload in soft values per slot (positive means bit 0), or ``None`` when its CRC fails."""
    bits = viterbi(np.asarray(soft, dtype=np.float64)[SLOT_OF_BIT])
    info = bits[:PAYLOAD_BITS]
    if not np.array_equal(crc16(info), bits[PAYLOAD_BITS : PAYLOAD_BITS + CRC_BITS]):
        return None
    return Payload(server_id=_bits_int(info[:16]), account_hash=_bits_int(info[16:]))
