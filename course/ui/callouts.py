"""Callouts the lessons share: the code that runs, mental models, misconceptions, open questions."""

from __future__ import annotations

import inspect

import streamlit as st

# Streamlit colours code tokens from a fixed palette that no theme option reaches, and on the code
# panel's grey its blue keywords (3.6:1), green strings (2.8:1) and teal numbers (2.5:1) fall
# short of the 4.5:1 text needs. The same hues, darkened to 5:1 or more on that grey and on white.
CODE_TOKEN_COLOURS = {
    ".token.keyword, .token.tag, .token.function, .token.class-name, .token.selector": "#0054a3",
    ".token.string, .token.char, .token.attr-value, .token.boolean, .token.constant, "
    ".token.symbol, .token.inserted.line, .token.inserted.prefix": "#17733a",
    ".token.number, .token.regex": "#0b6e62",
    ".token.operator, .token.entity, .token.decorator, .token.atrule": "#a64600",
    ".token.comment, .token.prolog, .token.doctype, .token.cdata, .token.punctuation, "
    ".token.unchanged.line": "#5c6270",
    ".token.attr-name, .token.property, .token.variable": "#006b8a",
    ".token.url": "#6d3fc0",
    ".token.important, .token.deleted.line, .token.deleted.prefix": "#b3202a",
}


def code_token_css() -> str:
    """A style sheet giving every code panel's tokens the readable colours above."""
    rules = []
    for selectors, colour in CODE_TOKEN_COLOURS.items():
        scoped = ", ".join(f'[data-testid="stCode"] {one.strip()}' for one in selectors.split(","))
        rules.append(f"{scoped} {{ color: {colour}; }}")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def readable_code_colours() -> None:
    """Style-only HTML goes to Streamlit's event container: it takes no room on the page."""
    st.html(code_token_css())


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


def reveal(question: str, answer: str) -> None:
    """An open question: think, then open the answer."""
    with st.container(border=True):
        st.markdown(f"**Think it through:** {question}")
        with st.expander("Show the answer"):
            st.markdown(answer)


HEARTBEAT_MARKS = ("①", "②", "③", "④")


def heartbeat_lines(source: str) -> list[tuple[str, bool]]:
    """Each line of the source, and whether it is one of the four heartbeat lines (marked ①-④)."""
    return [(line, any(mark in line for mark in HEARTBEAT_MARKS)) for line in source.splitlines()]


def show_heartbeat(obj, caption: str | None = None) -> None:
    """The code that runs, read from the object, with its forward/loss/backward/step lines
    highlighted (st.code cannot highlight lines, so the panel is plain escaped HTML)."""
    import html

    rows = []
    for line, beat in heartbeat_lines(inspect.getsource(obj)):
        text = html.escape(line) or " "
        rows.append(f'<mark style="background:#fde8b0;color:#0b131b">{text}</mark>' if beat else text)
    st.html('<pre style="background:#f6f7f9;color:#0b131b;padding:0.8em 1em;border-radius:0.5em;'
            'overflow-x:auto;font-size:0.85em;line-height:1.45" aria-label="code, the four '
            'heartbeat lines highlighted"><code>' + "\n".join(rows) + "</code></pre>")
    if caption:
        st.caption(caption)
