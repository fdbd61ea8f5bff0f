"""A square canvas to draw a digit on: dark ink on white paper, like a pencil on a page.

An inline `st.components.v2` component, so no extra dependency. The browser sends the
drawing back as a PNG when a stroke ends, so a page can update its prediction as the
learner draws. `course.concepts.digits.preprocess` turns the PNG into the model's input.
The html and js below are fixed: nothing the learner provides is ever put into them.
"""

from __future__ import annotations

import base64
import binascii

import streamlit as st

PNG_DATA_URL = "data:image/png;base64,"

HTML = """
<div class="digit-pad">
  <canvas aria-label="Drawing canvas: draw one digit"></canvas>
  <button type="button">Clear</button>
</div>
"""

CSS = """
.digit-pad { display: inline-flex; flex-direction: column; gap: 0.5rem; align-items: flex-start; }
canvas {
  background: #fff; border: 1px solid var(--st-border-color, #ccc); border-radius: 0.5rem;
  max-width: 100%; height: auto; cursor: crosshair;
  touch-action: none;  /* a finger draws instead of scrolling the page */
}
button {
  font: inherit; padding: 0.25rem 0.75rem; cursor: pointer; border-radius: 0.5rem;
  border: 1px solid var(--st-border-color, #ccc);
  background: var(--st-secondary-background-color, #f0f2f6); color: var(--st-text-color, inherit);
}
"""

JS = """
export default function ({ parentElement, data, setStateValue }) {
  const canvas = parentElement.querySelector("canvas");
  const pen = canvas.getContext("2d");
  const wipe = () => { pen.fillStyle = "#fff"; pen.fillRect(0, 0, canvas.width, canvas.height); };
  if (canvas.width !== data.size) {  // resizing erases, so only on first mount
    canvas.width = canvas.height = data.size;
    wipe();
  }
  Object.assign(pen, { lineWidth: data.size / 14, lineCap: "round", lineJoin: "round", strokeStyle: "#000" });

  // The canvas may be shown smaller than its pixels (narrow screens): map pointer to pixels.
  const point = (event) => [event.offsetX * canvas.width / canvas.clientWidth,
                            event.offsetY * canvas.height / canvas.clientHeight];
  let drawing = false;
  const start = (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    pen.beginPath();
    pen.moveTo(...point(event));
    pen.lineTo(...point(event));  // a tap leaves a dot
    pen.stroke();
  };
  const move = (event) => {
    if (!drawing) return;
    pen.lineTo(...point(event));
    pen.stroke();
  };
  const end = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("image", canvas.toDataURL("image/png"));
  };

  const listening = new AbortController();
  const options = { signal: listening.signal };
  canvas.addEventListener("pointerdown", start, options);
  canvas.addEventListener("pointermove", move, options);
  canvas.addEventListener("pointerup", end, options);
  canvas.addEventListener("pointercancel", end, options);
  parentElement.querySelector("button").addEventListener("click", () => {
    wipe();
    setStateValue("image", null);
  }, options);
  return () => listening.abort();  // Streamlit calls this before it mounts the function again
}
"""

_digit_canvas = st.components.v2.component("course.digit_canvas", html=HTML, css=CSS, js=JS)


def draw_digit(key: str, size: int = 280) -> bytes | None:
    """PNG bytes (size×size, black ink on white) of the drawing after the last stroke; None if blank."""
    result = _digit_canvas(key=key, data={"size": size}, default={"image": None},
                           on_image_change=lambda: None, width="content")
    return png_bytes(result.get("image"))


def png_bytes(data_url: str | None) -> bytes | None:
    """The PNG inside a `data:image/png;base64,` URL; None for anything else."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_DATA_URL):
        return None
    try:
        return base64.b64decode(data_url[len(PNG_DATA_URL):], validate=True)
    except binascii.Error:
        return None
