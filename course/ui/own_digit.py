"""Draw or upload a digit and watch MNIST's preprocessing and the model's answer."""

from __future__ import annotations

import streamlit as st


@st.fragment
def own_digit_section(model, model_name: str | None, key: str) -> None:
    """Draw or upload a digit, see MNIST's preprocessing, and the trained model's answer.

    A fragment: a stroke on the canvas or a new photo reruns this section, not the page."""
    import torch

    from course.charts import figures
    from course.concepts import digits
    from course.ui import canvas

    st.markdown("MNIST digits are white on black, centred by their mass in a 28×28 box after "
                "being scaled to fit 20×20. Your drawing goes through the same steps before "
                "the model sees it. A photo first loses its paper (**ink only**): the uneven "
                "light is evened out and whatever is fainter than the ink, by Otsu's threshold, "
                "turns black; otherwise grey paper would reach the model as a grey rectangle.")
    source = st.radio("Input", ["Draw", "Upload a photo", "Camera"], horizontal=True,
                      key=f"{key}.digit_source")
    raw = None
    if source == "Draw":
        raw = canvas.draw_digit(key=f"{key}.canvas")
    elif source == "Upload a photo":
        # The server accepts larger files (its limit is set for checkpoints); this box, and the
        # page's own check of the bytes in digits.open_image, stop at the photo limit.
        upload = st.file_uploader(
            f"A photo of one handwritten digit (PNG or JPEG, up to {digits.MAX_FILE_MB} MB)",
            type=["png", "jpg", "jpeg"], key=f"{key}.digit_upload",
            max_upload_size=digits.MAX_FILE_MB,
            help=f"This page reads photos of at most {digits.MAX_FILE_MB} MB and "
                 f"{digits.MAX_PIXELS / 1e6:g} megapixels: the model sees 20×20 pixels of it.")
        raw = upload.getvalue() if upload is not None else None
    else:
        photo = st.camera_input("Photograph a digit written on paper", key=f"{key}.camera")
        raw = photo.getvalue() if photo is not None else None
    if raw is None:
        st.caption("Draw a digit (or upload one) to see the steps and the prediction.")
        return
    try:
        steps = digits.preprocess_steps(raw, photo=source != "Draw")
    except digits.UnusableImage as error:
        st.error(str(error))
        return
    except digits.EmptyDrawing as error:
        st.info(str(error))
        return
    strip = st.columns(len(steps))
    for column, (name, picture) in zip(strip, steps, strict=True):
        shown = picture.squeeze().float()
        shown = (shown - shown.min()) / (shown.max() - shown.min() + 1e-8)
        height, width = shown.shape
        side = max(height, width)  # pad to a square so a thin "1" is not stretched sideways
        top, left = (side - height) // 2, (side - width) // 2
        shown = torch.nn.functional.pad(shown, (left, side - width - left, top, side - height - top))
        column.image(shown.numpy(), caption=name, width=90, clamp=True,
                     alt=f"Your digit after the step “{name}”, {height}×{width} pixels")
    _small_drawing_warning(digits.ink_extent(dict(steps)["ink only"]), source == "Draw")
    if model is None:
        st.info("Train a model above and its prediction for your digit appears here.")
        return
    with torch.no_grad():
        probabilities = torch.softmax(model.eval()(steps[-1][1]), dim=1)[0]
    guess, sure = int(probabilities.argmax()), float(probabilities.max())
    st.plotly_chart(figures.probability_bars(probabilities), key=f"{key}.digit_probs",
                    alt=f"Bar chart of the model's probability for each digit 0-9; the tallest "
                        f"bar is {guess} at {sure:.0%}.")
    st.markdown(f"The model says **{guess}** with {sure:.0%} confidence (model: {model_name}).")


def _small_drawing_warning(extent: float, drawn: bool) -> None:
    """own_digit_section's word on a digit that fills little of its picture (a tap, a far photo)."""
    from course.concepts import digits

    if extent >= digits.SMALL_DRAWING:
        return
    where, fix = (("the canvas", "draw it larger, filling most of the square") if drawn else
                  ("the photo", "take it closer, so the digit fills most of the picture"))
    st.warning(f"This drawing is very small: its ink spans {extent:.0%} of {where}'s side. "
               "Scaled to MNIST's 20×20 box, so little ink keeps hardly any shape, and a "
               f"prediction for it is unreliable. For a fair test, {fix}.", icon="🔍")
