"""The prediction gallery as one clickable plotly figure, built from real MNIST test images."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from course.charts import figures
from course.engine import data


@pytest.fixture(scope="module")
def test_split(data_dir):
    return data.split_tensors("mnist", train=False)


def confident_guesses(labels: torch.Tensor, wrong: set[int]) -> torch.Tensor:
    """Probabilities that put 0.9 on the true label, except for the images in `wrong`, where
    0.8 goes to the next class and 0.002 is left for the true one."""
    probabilities = torch.full((len(labels), 10), 0.1 / 9)
    probabilities[torch.arange(len(labels)), labels] = 0.9
    for index in wrong:
        row = torch.full((10,), (1 - 0.8 - 0.002) / 8)
        row[(int(labels[index]) + 1) % 10] = 0.8
        row[int(labels[index])] = 0.002
        probabilities[index] = row
    return probabilities


def composed_image(figure) -> np.ndarray:
    source = figure.data[0].source
    assert source.startswith("data:image/png;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
    return np.asarray(picture.convert("RGBA")).astype(int)


def test_one_marker_per_image_carrying_its_gallery_position(test_split):
    indices = [5, 17, 4_242, 9_999, 123, 7, 8, 9, 10, 11]
    probabilities = confident_guesses(test_split.labels, wrong={17, 9_999})

    figure = figures.prediction_gallery(test_split.images, test_split.labels, probabilities, indices,
                                       columns=4)

    image, texts, markers = figure.data
    assert image.type == "image" and image.hoverinfo == "skip"
    assert len(markers.x) == len(markers.y) == len(indices)
    assert list(markers.customdata) == list(range(len(indices)))
    assert markers.marker.opacity < 0.05, "the markers are there to be clicked, not seen"
    assert figure.layout.xaxis.range is not None and figure.layout.yaxis.range is not None
    # Each marker sits on its own thumbnail: 4 columns, 3 rows, row 0 on top (y grows down).
    assert len(set(markers.x)) == 4 and len(set(markers.y)) == 3
    assert markers.y[0] < markers.y[4] < markers.y[8] and markers.x[0] < markers.x[1]


def test_mistakes_are_red_with_p_true_and_right_answers_green(test_split):
    indices = [5, 17, 4_242, 9_999]
    probabilities = confident_guesses(test_split.labels, wrong={17, 9_999})
    labels = test_split.labels

    figure = figures.prediction_gallery(test_split.images, labels, probabilities, indices,
                                       truth_word="label")

    texts = figure.data[1]
    assert list(texts.textfont.color) == [figures.GREEN, figures.RED, figures.GREEN, figures.RED]
    assert texts.text[0] == f"#1 · <b>{int(labels[5])}</b> · 90%"
    assert texts.text[1] == (f"#2 · <b>{(int(labels[17]) + 1) % 10}</b> · 80%"
                             f"<br>label {int(labels[17])}: 0.20%")
    # The frames in the composed picture have the same colours: the pixel at each thumbnail's
    # top-left corner, where its frame starts.
    picture = composed_image(figure)
    for x, y, colour in zip(figure.data[2].x, figure.data[2].y, texts.textfont.color, strict=True):
        corner = picture[round(y - 15.5), round(x - 15.5)]
        assert tuple(corner[:3]) == tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_the_thumbnails_are_the_test_images_themselves(test_split):
    indices = [0, 1, 2]
    probabilities = confident_guesses(test_split.labels, wrong=set())

    figure = figures.prediction_gallery(test_split.images, test_split.labels, probabilities, indices)

    picture = composed_image(figure)
    for position, index in enumerate(indices):
        x, y = figure.data[2].x[position], figure.data[2].y[position]
        top, left = round(y - 13.5), round(x - 13.5)
        digit = picture[top:top + 28, left:left + 28]
        expected = test_split.images[index].numpy().astype(int)
        for channel in range(3):  # grey, each pixel within 1/255 of the test image's own
            assert np.abs(digit[..., channel] - expected).max() <= 1
        assert (digit[..., 3] == 255).all()
        assert picture[top + 40, left, 3] == 0, "transparent under the thumbnails, for the label"
    assert picture[:, :, 3].mean() < 200, "and between them"


def test_the_picked_image_is_outlined_and_the_payload_is_small(test_split):
    indices = list(range(24))
    probabilities = confident_guesses(test_split.labels, wrong={3, 11})

    plain = figures.prediction_gallery(test_split.images, test_split.labels, probabilities, indices)
    picked = figures.prediction_gallery(test_split.images, test_split.labels, probabilities, indices,
                                       picked=5)

    assert len(plain.layout.shapes) == 0
    (outline,) = picked.layout.shapes
    marker_x, marker_y = picked.data[2].x[5], picked.data[2].y[5]
    assert outline.x0 < marker_x < outline.x1 and outline.y0 < marker_y < outline.y1
    sent = picked.to_dict()
    sent["layout"].pop("template", None)  # Streamlit leaves plotly's template out of what it sends
    assert len(json.dumps(sent)) < 16_000, "24 thumbnails of 28×28 are a few kilobytes"


def test_small_probabilities_are_never_shown_as_zero():
    assert figures.small_percent(0.42) == "42%"
    assert figures.small_percent(0.0031) == "0.31%"
    assert figures.small_percent(2e-7) == "<0.01%"
