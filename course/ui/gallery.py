"""The clickable gallery of predictions (right in green, wrong in red)."""

from __future__ import annotations

import streamlit as st


def prediction_gallery(images, labels, probabilities, indices, key: str, truth_word: str = "true",
                       picked: int | None = None, on_pick=None) -> None:
    """The images as one picture (figures.prediction_gallery): green frame when right, red when
    wrong, with the probability given to the true class (`truth_word`: "label" for a training
    set whose labels may themselves be wrong). With `on_pick`, clicking a thumbnail calls
    on_pick(its gallery position) before the rerun; `picked` is outlined."""
    from course.charts import figures

    if not indices:
        st.info("No images match this selection.")
        return
    figure = figures.prediction_gallery(images, labels, probabilities, indices,
                                       truth_word=truth_word, picked=picked)
    config = {"displayModeBar": False}
    alt = figures.prediction_gallery_alt(labels, probabilities, indices, on_pick is not None)
    if on_pick is None:
        st.plotly_chart(figure, key=key, config=config, alt=alt)
        return

    def clicked():
        points = st.session_state[key]["selection"]["points"]
        if points:  # a second click on the same thumbnail deselects it: nothing to do
            on_pick(int(points[0]["customdata"]))

    st.plotly_chart(figure, key=key, config=config, on_select=clicked, selection_mode="points",
                    alt=alt)
