"""Per-session memory of results that belong to one learner (a model of their run, its
predictions): never st.cache_resource, which every session shares."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def per_session(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """compute() once per key in this session; a new key (a new checkpoint) replaces the old."""
    slot = st.session_state.setdefault(f"memo.{name}", {})
    if slot.get("key") != key:
        slot.clear()
        slot.update(key=key, value=compute())
    return slot["value"]
