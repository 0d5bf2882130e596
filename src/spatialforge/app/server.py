"""The Gradio page: three tabs over ``explore``, ``ask`` and ``compare``, and ``serve``.

Every endpoint has an ``api_name`` (``load_dataset``, ``filter_records``, ``show_record``,
``ask``, ``compare``), so ``gradio_client`` drives the page as the browser does.  Expected
errors (``SpatialforgeError``: a bad folder, an unreadable image, a bad config) become a
one-line ``gr.Error`` in the page; anything else is a bug, logged on the server and shown
by Gradio as a bare "Error", never a stack trace.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from ..errors import ConfigError, SpatialforgeError
from ..extras import require
from . import ask as ask_mod
from . import compare as compare_mod
from . import explore

TITLE = "spatialforge"
IMAGE = {"type": "pil", "format": "png", "interactive": False, "height": 360}  # lossless, not webp


def _friendly(fn: Callable) -> Callable:
    """Expected errors as a one-line message in the page."""
    import gradio as gr

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SpatialforgeError as e:  # includes MissingExtraError (an optional extra not installed)
            raise gr.Error(str(e).splitlines()[0] if str(e) else type(e).__name__, print_exception=False) from None

    return wrapper


def _display(im, width: int = 420):
    """A small image scaled up by a whole factor to about ``width`` pixels (nearest neighbour:
    pixels stay exact) so the page shows it at a readable size; boxes are drawn before, at the
    image's own resolution."""
    im = im if isinstance(im, Image.Image) else Image.fromarray(im)
    k = width // im.width
    return im if k <= 1 else im.resize((im.width * k, im.height * k), Image.NEAREST)


def _frame(rows: list[list[Any]], columns: list[str]):
    """A table for ``gr.Dataframe`` (object columns: None stays None, bools stay bools)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=columns, dtype=object)


def _explore_tab(gr, demo, dataset: str | None, workdir: Path) -> None:
    with gr.Row():
        folder = gr.Textbox(value=dataset or "", label="Dataset folder", scale=4,
                            placeholder="a folder written by `spatialforge generate` (make demo: demo_out)")
        load = gr.Button("Load", variant="primary", scale=1)
    info = gr.Markdown(elem_id="explore-summary")
    with gr.Row(equal_height=True):
        dd = {k: gr.Dropdown([explore.ALL], value=explore.ALL, label=k) for k in explore.FILTERS}
        filt = gr.Button("Apply filters", size="sm")
    record = gr.Dropdown([], label="Record", allow_custom_value=True)
    count = gr.Markdown()
    meta = gr.Markdown()
    with gr.Row():
        with gr.Column():
            image = gr.Image(label="record view", elem_id="record-view", **IMAGE)
            question = gr.Textbox(label="question", lines=3)
            answer = gr.Textbox(label="answer")
        with gr.Column():
            p_image = gr.Image(label="mirrored partner", **IMAGE)
            p_question = gr.Textbox(label="partner question", lines=3)
            p_answer = gr.Textbox(label="partner answer")
    model3d = gr.Model3D(label="scene objects in 3D (asked-about objects in colour; drag to turn)",
                         elem_id="scene-3d", height=320, camera_position=(-60, 65, None))

    @_friendly
    def on_load(path: str):
        ds = explore.load_dataset(path)
        ids = ds.select()
        return (explore.summary(ds), *[gr.Dropdown(ds.options(k), value=explore.ALL) for k in explore.FILTERS],
                gr.Dropdown(ids, value=ids[0] if ids else None), f"{len(ids)} records match")

    @_friendly
    def on_filter(path: str, task: str, level: str, fmt: str, view: str):
        ids = explore.load_dataset(path).select(task=task, level=level, format=fmt, view=view)
        return gr.Dropdown(ids, value=ids[0] if ids else None), f"{len(ids)} records match"

    @_friendly
    def on_record(path: str, rid: str):
        ds = explore.load_dataset(path)
        if not rid:
            return None, "", "", None, "", "", "", None
        row = ds.by_id.get(rid)
        if row is None:
            raise explore.DataError(f"record {rid!r}: not in {ds.root}")
        partner = ds.partner(row)
        q, a = explore.record_text(row)
        pq, pa = explore.record_text(partner)
        return (_display(ds.image(row)), q, a, _display(ds.image(partner)) if partner else None, pq, pa,
                explore.record_info(row),
                str(explore.scene_model(ds, row, workdir)))

    filters = [dd[k] for k in explore.FILTERS]
    shown = [image, question, answer, p_image, p_question, p_answer, meta, model3d]
    load.click(on_load, folder, [info, *filters, record, count], api_name="load_dataset")
    folder.submit(on_load, folder, [info, *filters, record, count], api_name=False)
    for f in filters:
        f.input(on_filter, [folder, *filters], [record, count], api_name=False)
    filt.click(on_filter, [folder, *filters], [record, count], api_name="filter_records")
    record.change(on_record, [folder, record], shown, api_name="show_record")
    if dataset:
        demo.load(on_load, folder, [info, *filters, record, count], api_name=False)


def _ask_tab(gr, perception: str | None) -> None:
    default = f"{ask_mod.DEFAULT_PERCEPTION.name}` (tiny random-weight models: boxes and answers are placeholders)"
    gr.Markdown(f"Perception config: `{perception + '`' if perception else default}")
    with gr.Row():
        upload = gr.File(label="Image", file_types=["image"], type="filepath", elem_id="ask-upload")
        with gr.Column():
            questions = gr.Slider(1, 40, value=8, step=1, label="questions (each with its mirrored partner)")
            model = gr.Textbox(label="Model (optional): local checkpoint folder, tiny:qwen2_5_vl, or served model name")
            base_url = gr.Textbox(label="OpenAI-compatible base URL (optional; key from $OPENAI_API_KEY)")
            go = gr.Button("Ask", variant="primary", elem_id="ask-button")
    status = gr.Markdown(elem_id="ask-status")
    with gr.Row():
        boxes = gr.Image(label="objects (2D and 3D boxes)", **IMAGE)
        depth = gr.Image(label="point map depth (near blue, far yellow)", **IMAGE)
    table = gr.Dataframe(label="questions and answers", wrap=True, elem_id="ask-table", max_height=600,
                         column_widths=["12%", "9%", "10%", "6%", "45%", "18%"])
    state: dict[str, Any] = {}

    @_friendly
    def on_ask(path: str | None, n: float, model_name: str, url: str, progress=gr.Progress()):
        if not path:
            raise explore.DataError("no image uploaded")
        if "config" not in state:
            progress(0.02, desc="loading perception models")
            state["config"] = ask_mod.perception_config(perception)
        spec = ask_mod.ModelSpec(model_name.strip(), url.strip() or None) if (model_name or "").strip() else None
        if spec is None and (url or "").strip():
            raise explore.DataError("a base URL needs a model name")
        res = ask_mod.ask(path, state["config"], questions=int(n), model=spec,
                          progress=lambda f, d: progress(f, desc=d))
        return _display(res.boxes), _display(res.depth), _frame(res.rows, res.columns), res.verdict

    go.click(on_ask, [upload, questions, model, base_url], [boxes, depth, table, status], api_name="ask")


def _compare_tab(gr, eval_a: str | None, eval_b: str | None) -> None:
    with gr.Row():
        a = gr.Textbox(value=eval_a or "", label="Eval folder A")
        b = gr.Textbox(value=eval_b or "", label="Eval folder B")
        go = gr.Button("Compare", variant="primary", elem_id="compare-button")
    status = gr.Markdown()
    metrics = gr.Dataframe(headers=compare_mod.METRIC_COLUMNS, label="metrics (A, B, B - A)", elem_id="compare-metrics")
    samples = gr.Dataframe(headers=compare_mod.SAMPLE_COLUMNS, label="samples where the runs differ", wrap=True)

    @_friendly
    def on_compare(path_a: str, path_b: str):
        m, s, text = compare_mod.compare(path_a, path_b)
        return _frame(m, compare_mod.METRIC_COLUMNS), _frame(s, compare_mod.SAMPLE_COLUMNS), text

    go.click(on_compare, [a, b], [metrics, samples, status], api_name="compare")


def build_app(dataset: str | Path | None = None, eval_a: str | Path | None = None, eval_b: str | Path | None = None,
              perception: str | Path | None = None, workdir: str | Path | None = None):
    """The ``gr.Blocks`` of the three views; ``workdir`` holds the 3D views' GLB files (default: a
    temporary folder removed at exit)."""
    require("app", "spatialforge app")
    import gradio as gr

    if workdir is None:  # ours: removed when the process exits
        workdir = Path(tempfile.mkdtemp(prefix="spatialforge-app-"))
        atexit.register(shutil.rmtree, workdir, True)
    workdir = Path(workdir)
    with gr.Blocks(title=TITLE, delete_cache=(600, 1800)) as demo:
        gr.Markdown("## spatialforge: look at generated spatial questions, ask about your own image, compare runs")
        with gr.Tab("Explore a dataset"):
            _explore_tab(gr, demo, None if dataset is None else str(dataset), workdir)
        with gr.Tab("Ask about your own image"):
            _ask_tab(gr, None if perception is None else str(perception))
        with gr.Tab("Compare evaluation runs"):
            _compare_tab(gr, None if eval_a is None else str(eval_a), None if eval_b is None else str(eval_b))
    demo.spatialforge_workdir = workdir
    return demo


def serve(dataset: str | Path | None = None, eval_a: str | Path | None = None, eval_b: str | Path | None = None,
          perception: str | Path | None = None, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Serve the page until interrupted; uploads and generated files live in one temporary
    folder that is removed on exit (Gradio's own cache is put there too)."""
    if threading.current_thread() is threading.main_thread():  # `kill` stops it as Ctrl-C does: cleaned up
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="spatialforge-app-") as tmp:
        os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tmp) / "gradio"))
        demo = build_app(dataset, eval_a, eval_b, perception, workdir=Path(tmp) / "models")
        try:
            demo.launch(server_name=host, server_port=port, show_error=False, quiet=False)
        finally:
            demo.close()
            shutil.rmtree(tmp, ignore_errors=True)


def check_inputs(dataset: Path | None, eval_a: Path | None, eval_b: Path | None, perception: Path | None) -> None:
    """The command's folders and config, checked before the server starts (one-line errors)."""
    checks = [("--dataset", dataset, explore.dataset_root), ("--eval-a", eval_a, compare_mod.load_run),
              ("--eval-b", eval_b, compare_mod.load_run)]
    for flag, value, check in checks:
        if value is not None:
            try:
                check(value)
            except SpatialforgeError as e:
                raise ConfigError(f"{flag}: {e}") from None
    if perception is not None:
        ask_mod.load_config(perception)
