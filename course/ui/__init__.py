"""The only Streamlit code inside `course`: lesson header, callouts, checks, widgets, the runs
panel and run view, the digit canvas."""
