"""The perception stages on Ray Data: one actor pool per stage, then a stateless map.

    items -> [photo_filter] -> geometry -> [tagging] -> detection -> segmentation -> finish

Each configured stage is ``ds.map_batches(StageActor, compute=ActorPoolStrategy(size=workers),
batch_format="numpy", batch_size=config.batch_size, num_gpus=...)``: the actor's constructor
builds the same ``pipeline.Stage`` the in-process path uses (so the backend's model loads
once per actor), and ``finish`` (the 3D estimate of ``sources.images``) runs as a plain map.

Output equals the in-process path's byte for byte: every stage sees the same batches (the
input has one block per batch, and each actor groups its rows by batch number as a guard),
rows stay in order (``preserve_order``), and the driver writes the results in that order.
Rows carry each image's ``ItemState`` pickled (one binary column): images differ in size,
and the partial results are nested records, not tensors.

Ray is started here if it is not running: ``ray.init()`` joins the cluster named by
``RAY_ADDRESS`` when that is set, else starts a local one (``num_cpus`` when given).
"""

from __future__ import annotations

import importlib.util
import os
import pickle
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import ConfigError
from ..extras import require
from .base import ImageItem, backend_class
from .config import PerceptionConfig
from .pipeline import ItemState, Stage, stage_kinds

_PICKLE = pickle.HIGHEST_PROTOCOL


def init_ray(num_cpus: int | None = None) -> Any:
    """The ``ray`` module, started (or joined, with ``RAY_ADDRESS``) if needed."""
    require("ray", "--ray (perception on Ray Data)")
    import ray

    if not ray.is_initialized():
        local = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": num_cpus, "include_dashboard": False}
        ray.init(log_to_driver=False, **local)
    return ray


class StageActor:
    """A Ray Data actor running one perception stage on numpy batches of pickled states.

    ``torch_threads``: torch's CPU thread count in the actor.  It changes CPU results in the
    last bits (reduction order), and Ray starts actors with one thread, so matching the
    in-process count is what makes the bytes equal."""

    def __init__(self, kind: str, config: PerceptionConfig, backend_cls: type, torch_threads: int | None) -> None:
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)
        self.stage = Stage(kind, config, backend_cls)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        states = [pickle.loads(b) for b in batch["state"]]
        groups: dict[int, list[ItemState]] = {}
        for b, s in zip(batch["batch"].tolist(), states):
            groups.setdefault(b, []).append(s)
        for group in groups.values():  # one group per batch unless Ray split a batch
            self.stage(group)
        return {**batch, "state": _column([pickle.dumps(s, _PICKLE) for s in states])}


def _finish_batch(batch: dict[str, np.ndarray], finish: Callable[[Any], Any]) -> dict[str, np.ndarray]:
    out = [pickle.dumps(finish(pickle.loads(b).result()), _PICKLE) for b in batch["state"]]
    return {"index": batch["index"], "out": _column(out)}


def _column(blobs: list[bytes]) -> np.ndarray:
    col = np.empty(len(blobs), dtype=object)
    col[:] = blobs
    return col


def _resources(workers: int, n_stages: int, num_gpus: float | None, ray: Any) -> tuple[dict[str, float], float]:
    """Per stage actor: one GPU where the cluster has GPUs (unless ``num_gpus`` says), else a
    share of a CPU, so a worker (one actor per stage and the finishing map) asks for one CPU;
    and the CPUs of one finishing task."""
    gpus = (1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0) if num_gpus is None else float(num_gpus)
    share = 1.0 / (n_stages + 1)
    return {"num_gpus": gpus, "num_cpus": 1.0 if gpus else share}, (1.0 if gpus else share)


def driver_torch_threads() -> int | None:
    """torch's thread count in this process (what the in-process path uses); None without torch."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    return torch.get_num_threads()


def run_perception(items: list[ImageItem], config: PerceptionConfig, finish: Callable[[Any], Any], *,
                   workers: int = 1, torch_threads: int | None | str = "driver", num_gpus: float | None = None,
                   num_cpus: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(index into items, finish(Perceived | DataError))`` for every item, in order.

    ``finish`` must be picklable (a module-level function or a ``functools.partial`` of one).
    ``workers``: actors per stage pool; ``torch_threads``: per actor ("driver": this process's
    count, for the in-process bytes; None: Ray's default, one); ``num_gpus``: per actor
    (default: 1 where the cluster has a GPU, else 0); ``num_cpus``: for a local Ray started here."""
    if workers < 1:
        raise ConfigError(f"--ray-workers must be >= 1, got {workers}")
    if not items:
        return
    ray = init_ray(num_cpus)
    import pyarrow as pa
    from ray.data import ActorPoolStrategy

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # results in input order: written as in-process
    bs, kinds = config.batch_size, stage_kinds(config)
    blocks = []  # one block per batch, so Ray's batches are the in-process batches
    for b, start in enumerate(range(0, len(items), bs)):
        chunk = items[start : start + bs]
        blocks.append(pa.table({"index": pa.array(range(start, start + len(chunk)), pa.int64()),
                                "batch": pa.array([b] * len(chunk), pa.int64()),
                                "state": pa.array([pickle.dumps(ItemState(it), _PICKLE) for it in chunk], pa.binary())}))
    ds = ray.data.from_arrow(blocks)
    res, finish_cpus = _resources(workers, len(kinds), num_gpus, ray)
    threads = driver_torch_threads() if torch_threads == "driver" else torch_threads
    for kind in kinds:
        cls = backend_class(kind, config.stages[kind].backend)  # resolved here: the registry of this process
        ds = ds.map_batches(StageActor, fn_constructor_kwargs={"kind": kind, "config": config, "backend_cls": cls,
                                                                 "torch_threads": threads},
                            compute=ActorPoolStrategy(size=workers), batch_size=bs, batch_format="numpy", **res)
    ds = ds.map_batches(_finish_batch, fn_kwargs={"finish": finish}, batch_size=bs, batch_format="numpy",
                        num_cpus=finish_cpus)
    batches = iter(ds.iter_batches(batch_size=None, batch_format="numpy"))  # a generator
    try:
        for batch in batches:
            for i, blob in zip(batch["index"].tolist(), batch["out"]):
                yield int(i), pickle.loads(blob)
    finally:  # a caller that stops early (killed, error) frees the actors now, not at garbage collection
        batches.close()
