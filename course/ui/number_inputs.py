"""A number input that never leaves an unusable entry in its box."""

from __future__ import annotations

import streamlit as st


def bounded_number(label: str, low: int, high: int, value: int, key: str) -> int:
    """A whole-number input that takes any number and uses the nearest allowed one, saying so.

    Streamlit's own min_value/max_value would leave an out-of-range entry red in the box while
    the page silently kept the previous value: here the entry reaches the script, the box is
    set to the value used, and a warning names the allowed range.
    """
    def clamp() -> None:
        typed = st.session_state[key]
        used = value if typed is None else min(max(int(typed), low), high)
        st.session_state[key] = used
        st.session_state[f"{key}.clamped"] = None if typed == used else (typed, used)

    st.session_state.setdefault(key, value)  # no value= below: the state is the one source
    st.number_input(label, step=1, key=key, on_change=clamp, help=f"{low:,} to {high:,}")
    clamped = st.session_state.get(f"{key}.clamped")
    if clamped and clamped[1] == st.session_state[key]:
        st.warning(f"**{label}** takes {low:,} to {high:,}: you typed {clamped[0]:,}, so the "
                   f"page uses {clamped[1]:,}.")
    return st.session_state[key]
