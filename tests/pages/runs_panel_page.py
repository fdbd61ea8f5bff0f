"""The smallest training page: a Train button and the runs panel (driven by test_runs_panel)."""

import streamlit as st

from course.engine.train import RunConfig
from course.ui import panel


def main() -> None:
    space = panel.current_workspace()
    epochs = st.number_input("Epochs", 1, 30, 30, key="t.epochs")
    subset = st.number_input("Images", 1_000, 60_000, 60_000, key="t.subset")
    config = RunConfig(epochs=int(epochs), train_subset=None if subset == 60_000 else int(subset))
    panel.train_button(space, config, "t.train")
    panel.runs_panel(space, "t.runs")


if __name__ == "__main__":  # not when a worker process re-imports the main script
    main()
