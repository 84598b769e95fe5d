"""An inaudible watermark on every clip voxclone generates (spread spectrum, 500–3500 Hz).

- :mod:`.pattern`: the keyed, band-limited noise and its slots;
- :mod:`.coding`: payload (server id, account hash), CRC-16 and convolutional code;
- :mod:`.embed`: :class:`Marker` marks chunks (chunk-local, keyed to absolute sample position);
- :mod:`.detect`: :class:`Detector` finds the mark and its payload in any excerpt of 3 s or more.
"""

from voxclone.audio.watermark.coding import Payload, account_hash
from voxclone.audio.watermark.detect import Detection, Detector
from voxclone.audio.watermark.embed import Marker

__all__ = ["Detection", "Detector", "Marker", "Payload", "account_hash"]
