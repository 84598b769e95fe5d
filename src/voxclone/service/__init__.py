"""Domain services: accounts and keys, credits, voice clones, speech. No FastAPI here.

HTTP → service → engine/store, never back. :class:`voxclone.service.container.Services` wires them.
"""
