"""The few Streamlit helpers every lesson page shares: header, checks, callouts, data access."""

from __future__ import annotations

import inspect
import weakref

import streamlit as st

from course import data, devices, lessons
from course.navigation import replace_app_heading, use_app_navigation
from course.runs import memory

# The server's own torch work (evaluation, small demos) uses one thread, deliberately: training
# runs in worker processes (course.runs.jobs) with cores ÷ slots threads each, and torch's thread
# count is process-global, so it is set once here, at import.
devices.configure_threads(1)
memory.return_freed_memory()  # sessions' threads must not each hoard freed memory


@st.cache_resource(show_spinner="Loading the dataset into memory (once per server)…")
def _cached_split(name: str, train: bool, root: str):
    return data.split_tensors(name, train, root)


# Which datasets' "missing" message each script run has shown in full. Streamlit creates a fresh
# parallel-fragment coordinator at the start of every run, so it stands for "this run" and is
# forgotten with it.
_missing_shown: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def missing_dataset(error: data.DatasetUnavailable) -> None:
    """The full "dataset missing" message once per page run; later sections get one line."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    this_run = getattr(get_script_run_ctx(), "parallel_coordinator", None)
    shown = _missing_shown.setdefault(this_run, set()) if this_run is not None else set()
    if error.name in shown:
        st.caption(f"📦 This part needs the {error.name} dataset too: see the message above.")
        return
    shown.add(error.name)
    st.error(data.unavailable_message(error.name, error.root, then="reload the page", markdown=True),
             icon="📦")


def split_or_error(name: str = "mnist", train: bool = True):
    """The in-memory split, or None after showing the learner why it is missing."""
    try:
        return _cached_split(name, train, str(data.data_root()))
    except data.DatasetUnavailable as error:
        missing_dataset(error)
        return None


def dataset_or_error(name: str = "mnist", train: bool = True, transform=None):
    """torchvision's own dataset object (per-sample transforms), or None with an error shown."""
    try:
        return data.load_dataset(name, train=train, transform=transform)
    except data.DatasetUnavailable as error:
        missing_dataset(error)
        return None


def colab_url(notebook_name: str) -> str | None:
    """The notebook opened in Colab from GitHub, or None when no GitHub repository is known."""
    repository = lessons.repository()
    if repository is None:
        return None
    return (f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/"
            f"{notebook_name}")


def lesson_header(slug: str) -> lessons.Lesson:
    """Title, where the lesson sits in its module, and the exercise notebook links."""
    use_app_navigation()
    lesson = lessons.lesson(slug)
    module = lessons.module_of(lesson)
    replace_app_heading()
    st.caption(f"Module {module.label} · Lesson {lesson.code}")
    st.title(lesson.title)
    st.caption(" → ".join(f"“{step}”" for step in module.arc))
    notebook = lessons.PROJECT_ROOT / "notebooks" / lesson.notebook_name
    if notebook.exists():
        buttons = st.container(horizontal=True)  # side by side, each as wide as its label
        buttons.download_button("⬇️ Exercise notebook", notebook.read_bytes(),
                                file_name=lesson.notebook_name, width="content",
                                mime="application/x-ipynb+json", key=f"{slug}.notebook")
        url = colab_url(lesson.notebook_name)
        if url:  # without a GitHub repository a Colab link would lead nowhere: download only
            buttons.link_button("Open the notebook in Colab", url, width="content")
    return lesson


def show_source(obj, caption: str | None = None) -> None:
    """The code on screen is the code that runs: read it from the object itself."""
    # Long lines scroll: wrapped back to column 0 they would look dedented.
    st.code(inspect.getsource(obj), language="python", wrap_lines=False)
    if caption:
        st.caption(caption)


def takeaway(text: str) -> None:
    st.success(f"**Mental model:** {text}", icon="🧭")


def misconception(belief: str, reality: str) -> None:
    st.warning(f"**Misconception:** “{belief}”\n\n{reality}", icon="🧠")


def foundations_link(text: str) -> None:
    st.info(text, icon="🔗")


def answered(key: str) -> bool:
    """Has the learner committed an answer to this check (right, or wrong twice)?"""
    return st.session_state.get(f"{key}.result") not in (None, "")


RETRY = "Not quite. Think again: one more try before the answer shows."


def _commit(key: str, guess, right: bool) -> None:
    """Record a guess: a first wrong one only earns a retry; a right one, a second wrong one, or
    any guess after the answer has shown, becomes the check's answer (see answered)."""
    if guess is None or guess == "":
        st.session_state[f"{key}.result"] = st.session_state.get(f"{key}.result") or ""
        st.session_state[f"{key}.empty"] = True
        return
    st.session_state[f"{key}.empty"] = False
    if right or answered(key) or st.session_state.get(f"{key}.tries", 0) >= 1:
        st.session_state[f"{key}.result"] = guess
    else:
        st.session_state[f"{key}.tries"] = 1
        st.session_state[f"{key}.retry"] = True


@st.fragment
def check_number(key: str, question: str, answer: float, explanation: str,
                 tolerance: float = 0.0, unlocks: bool = False, **input_options) -> None:
    """Predict first, then check: an empty number input and a button that judges the guess.

    The box starts empty, so checking without a guess asks for one; a wrong guess may be
    retried once before the answer shows. A fragment: typing a guess reruns only the check. With
    `unlocks` (a section waits for the answer, e.g. an explorer that would give it away) its
    answer reruns the page.
    """
    before = answered(key)
    input_options.setdefault("value", None)
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        guess = st.number_input("Your prediction", key=f"{key}.guess",
                                placeholder="type a number", **input_options)
        st.session_state[f"{key}.retry"] = False
        if st.button("Check my prediction", key=f"{key}.check"):
            _commit(key, guess, guess is not None and abs(guess - answer) <= tolerance)
        _verdict(key, lambda checked: abs(checked - answer) <= tolerance,
                 f"Right: {explanation}",
                 f"Not quite: the answer is {answer:,.10g}. {explanation}",
                 "Type a number first: predicting is the point.")
    if unlocks and answered(key) and not before:
        st.rerun()  # the page shows what waited for this answer


def _verdict(key: str, is_right, right: str, wrong: str, empty: str) -> None:
    """The check's feedback, kept in session state so it survives other clicks."""
    checked = st.session_state.get(f"{key}.result")
    if st.session_state.get(f"{key}.empty"):
        st.warning(empty)
    elif st.session_state.get(f"{key}.retry"):
        st.error(RETRY)
    elif checked not in (None, ""):
        if is_right(checked):
            st.success(right)
        else:
            st.error(wrong)


@st.fragment
def check_choice(key: str, question: str, options: list[str], answer: int,
                 explanation: str, unlocks: bool = False) -> None:
    """A multiple-choice prediction revealed only after the learner commits; a wrong choice may
    be retried once (a fragment, as check_number)."""
    before = answered(key)
    with st.container(border=True):
        st.markdown(f"**Predict:** {question}")
        choice = st.radio("Your answer", options, index=None, key=f"{key}.choice")
        st.session_state[f"{key}.retry"] = False
        if st.button("Check my answer", key=f"{key}.check"):
            _commit(key, choice, choice is not None and options.index(choice) == answer)
        _verdict(key, lambda checked: options.index(checked) == answer,
                 f"Right. {explanation}", f"Not quite: “{options[answer]}”. {explanation}",
                 "Pick an answer first: predicting is the point.")
    if unlocks and answered(key) and not before:
        st.rerun()  # the page shows what waited for this answer


def reveal(question: str, answer: str) -> None:
    """An open question: think, then open the answer."""
    with st.container(border=True):
        st.markdown(f"**Think it through:** {question}")
        with st.expander("Show the answer"):
            st.markdown(answer)


def prediction_gallery(images, labels, probabilities, indices, key: str, truth_word: str = "true",
                       picked: int | None = None, on_pick=None) -> None:
    """The images as one picture (charts.prediction_gallery): green frame when right, red when
    wrong, with the probability given to the true class (`truth_word`: "label" for a training
    set whose labels may themselves be wrong). With `on_pick`, clicking a thumbnail calls
    on_pick(its gallery position) before the rerun; `picked` is outlined."""
    from course import charts

    if not indices:
        st.info("No images match this selection.")
        return
    figure = charts.prediction_gallery(images, labels, probabilities, indices,
                                       truth_word=truth_word, picked=picked)
    config = {"displayModeBar": False}
    if on_pick is None:
        st.plotly_chart(figure, key=key, config=config)
        return

    def clicked():
        points = st.session_state[key]["selection"]["points"]
        if points:  # a second click on the same thumbnail deselects it: nothing to do
            on_pick(int(points[0]["customdata"]))

    st.plotly_chart(figure, key=key, config=config, on_select=clicked, selection_mode="points")


@st.fragment
def own_digit_section(model, model_name: str | None, key: str) -> None:
    """Draw or upload a digit, see MNIST's preprocessing, and the trained model's answer.

    A fragment: a stroke on the canvas or a new photo reruns this section, not the page."""
    import torch

    from course import canvas, charts, digits

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
        column.image(shown.numpy(), caption=name, width=90, clamp=True)
    _small_drawing_warning(digits.ink_extent(dict(steps)["ink only"]), source == "Draw")
    if model is None:
        st.info("Train a model above and its prediction for your digit appears here.")
        return
    with torch.no_grad():
        probabilities = torch.softmax(model.eval()(steps[-1][1]), dim=1)[0]
    st.plotly_chart(charts.probability_bars(probabilities), key=f"{key}.digit_probs")
    st.markdown(f"The model says **{int(probabilities.argmax())}** with "
                f"{float(probabilities.max()):.0%} confidence (model: {model_name}).")


def _small_drawing_warning(extent: float, drawn: bool) -> None:
    """own_digit_section's word on a digit that fills little of its picture (a tap, a far photo)."""
    from course import digits

    if extent >= digits.SMALL_DRAWING:
        return
    where, fix = (("the canvas", "draw it larger, filling most of the square") if drawn else
                  ("the photo", "take it closer, so the digit fills most of the picture"))
    st.warning(f"This drawing is very small: its ink spans {extent:.0%} of {where}'s side. "
               "Scaled to MNIST's 20×20 box, so little ink keeps hardly any shape, and a "
               f"prediction for it is unreliable. For a fair test, {fix}.", icon="🔍")


def nearest(options: list, value):
    """The option closest to value: a shared link's setting mapped onto a slider's stops."""
    return min(options, key=lambda option: abs(option - value))
