"""Voice profiles: what enrollment produces and synthesis consumes."""

from voxclone.voices.profile import PROFILE_FORMAT_VERSION, VoiceProfile

__all__ = ["PROFILE_FORMAT_VERSION", "VoiceProfile"]
