"""Small widget helpers."""

from __future__ import annotations


def nearest(options: list, value):
    """The option closest to value: a shared link's setting mapped onto a slider's stops."""
    return min(options, key=lambda option: abs(option - value))
