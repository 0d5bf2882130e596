"""``spatialforge app``: a Gradio page to look at generated data and ask about your own image.

Three views, each a thin layer over the project's own code (see docs/app.md):

* ``explore.py``: browse a dataset folder's records with their boxes, mirrored partner and a 3D view;
* ``ask.py``: an uploaded image -> perception -> questions and answers -> optionally a model's
  answers scored on the image and its mirror;
* ``compare.py``: two ``spatialforge eval`` output folders side by side.

``server.py`` builds the ``gr.Blocks`` (``build_app``) and serves it (``serve``).
"""

from __future__ import annotations

__all__ = ["build_app", "serve"]


def __getattr__(name: str):  # gradio is imported only when the page is built
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
