"""Lesson specs: `l_<series>_<module>_<lesson>.py` with LESSON, SLUG, TITLE, CELLS."""
