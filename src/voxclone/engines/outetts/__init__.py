"""OuteTTS 1.0 engine: LLM voice cloning over DAC codec tokens (optional extra ``voxclone[outetts]``).

Importing this package is cheap: torch, llama-cpp-python and faster-whisper are imported only
when an engine is built (see :mod:`voxclone.engines.outetts.engine`).
"""
