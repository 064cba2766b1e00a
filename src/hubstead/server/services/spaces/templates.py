"""The Space templates this hub offers (`list_space_templates`, `create_repo(space_template=)`).

Each is a small app that runs here: its files are the first commit of a Space created from it
(`RepoService.create(files=...)`), so no template repo has to exist. The ids live under the
`templates` namespace, as the client expects a repo id (`templates/gradio`).
"""

from __future__ import annotations

import dataclasses

from hubstead.server.domain.spaces import SpaceSdk


@dataclasses.dataclass(frozen=True)
class SpaceTemplate:
    """A template: its name, id and SDK, and the files a new Space gets."""

    name: str
    repo_id: str
    sdk: SpaceSdk
    files: dict[str, bytes]


def _readme(title: str, sdk: SpaceSdk, app_file: str) -> bytes:
    return (
        f"---\ntitle: {title}\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\n"
        f"sdk: {sdk.value}\napp_file: {app_file}\npinned: false\n---\n\n"
        f"# {title}\n\nCreated from the `{sdk.value}` template of this hub.\n"
    ).encode()


_STATIC_PAGE = b"""<!doctype html>
<html>
  <head><meta charset="utf-8"><title>My static Space</title></head>
  <body><h1>Hello from a static Space</h1><p>Edit index.html to change this page.</p></body>
</html>
"""

_GRADIO_APP = b"""import gradio as gr


def greet(name: str) -> str:
    return f"Hello {name}!"


demo = gr.Interface(fn=greet, inputs="text", outputs="text")

if __name__ == "__main__":
    demo.launch()
"""

_STREAMLIT_APP = b"""import streamlit as st

st.title("Hello from a Streamlit Space")
name = st.text_input("Your name", "world")
st.write(f"Hello {name}!")
"""

TEMPLATES: tuple[SpaceTemplate, ...] = (
    SpaceTemplate(
        "Static",
        "templates/static",
        SpaceSdk.STATIC,
        {"README.md": _readme("Static", SpaceSdk.STATIC, "index.html"), "index.html": _STATIC_PAGE},
    ),
    SpaceTemplate(
        "Gradio",
        "templates/gradio",
        SpaceSdk.GRADIO,
        {
            "README.md": _readme("Gradio", SpaceSdk.GRADIO, "app.py"),
            "app.py": _GRADIO_APP,
            "requirements.txt": b"",
        },
    ),
    SpaceTemplate(
        "Streamlit",
        "templates/streamlit",
        SpaceSdk.STREAMLIT,
        {
            "README.md": _readme("Streamlit", SpaceSdk.STREAMLIT, "app.py"),
            "app.py": _STREAMLIT_APP,
            "requirements.txt": b"",
        },
    ),
)


def find_template(repo_id: str) -> SpaceTemplate | None:
    """The template with this id (or name, in any case), or None."""
    wanted = repo_id.lower()
    return next((t for t in TEMPLATES if wanted in (t.repo_id.lower(), t.name.lower())), None)
