"""The embedded engine: Kokoro-82M int8 ONNX from PyPI, with voxclone's text front-end."""
