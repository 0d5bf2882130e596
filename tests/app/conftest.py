"""Fixtures for the app tests: a tiny generated dataset, two real eval folders scored on it, the
tiny perception models with a config that points at them, one rendered photo, and the app
served on a free local port (one of each per session / xdist worker)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.datasets.conftest import make_scene

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "perception"


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> Path:
    from spatialforge.datasets import generate_dataset

    root = tmp_path_factory.mktemp("app_ds")
    for i in range(2):
        make_scene(root / "scenes", i)
    # named as `make demo` names it (demo_out/data), so the app's "parent folder" case is tested
    generate_dataset(root / "data", source="folder", scenes_dir=root / "scenes", mirror=True, qa_per_scene=6, seed=0)
    return root / "data"


def _write_preds(path: Path, rows: list[dict], wrong: set[str]) -> Path:
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "prediction": "I cannot tell" if r["id"] in wrong else r["answer"]}) + "\n")
    return path


@pytest.fixture(scope="session")
def eval_runs(dataset, tmp_path_factory) -> tuple[Path, Path, set[str]]:
    """A: every answer right; B: the original view of every distance / direction question wrong."""
    from spatialforge.datasets.parquet import iter_rows
    from spatialforge.eval.evaluate import score_predictions

    root = tmp_path_factory.mktemp("app_eval")
    rows = list(iter_rows(dataset, columns=["id", "answer", "task", "view"]))
    wrong = {r["id"] for r in rows if r["task"] in ("distance", "direction") and r["view"] == "original"}
    for name, bad in (("a", set()), ("b", wrong)):
        score_predictions(_write_preds(root / f"{name}.jsonl", rows, bad), "synthetic", str(dataset), out=root / name)
    return root / "a", root / "b", wrong


@pytest.fixture(scope="session")
def perception_cfg(tmp_path_factory) -> Path:
    from spatialforge.perception.tiny import build_tiny_perception

    base = tmp_path_factory.getbasetemp()
    models = build_tiny_perception(base / "app_tiny_perception")
    text = (CONFIGS / "tiny_cpu.yaml").read_text().replace("${SPATIALFORGE_PERCEPTION_MODELS}", str(models))
    (base / "app_tiny_cpu.yaml").write_text(text)
    return base / "app_tiny_cpu.yaml"


@pytest.fixture(scope="session")
def photo(tmp_path_factory) -> Path:
    """An ordinary image file: one rendered scene's RGB (160x120)."""
    from spatialforge.sources.synthetic import write_scenes

    out = tmp_path_factory.mktemp("app_render")
    write_scenes(out, 1, seed=1, size=(160, 120))
    src = next((out / "images").glob("*.png"))
    dst = tmp_path_factory.mktemp("app_photo") / "room.png"
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="session")
def server(dataset, eval_runs, perception_cfg, tmp_path_factory):
    """The app on a free 127.0.0.1 port; yields its URL."""
    from spatialforge.app import build_app

    demo = build_app(dataset, eval_runs[0], eval_runs[1], perception_cfg, workdir=tmp_path_factory.mktemp("app_work"))
    demo.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)
