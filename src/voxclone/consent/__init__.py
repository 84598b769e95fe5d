"""Spoken consent: challenge phrases, offline word and speaker checks (see docs and bench/consent.py)."""
