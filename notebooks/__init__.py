"""Lesson notebooks, written by `build.py` from the specs in `lessons/`."""
