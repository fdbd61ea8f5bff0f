"""Plotly figures: data in, figure out; no Streamlit."""
