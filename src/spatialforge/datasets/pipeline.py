"""``generate_dataset``: scenes -> hierarchical QA -> sharded Parquet, resumable.

Flow: collect scene JSONs under ``out/scenes/`` (render synthetic ones there, or copy a
folder of scenes written by ``spatialforge scenes`` with the files they point to), then
for each scene not already done: generate its QA (and mirrored partners), encode the
image once per view, buffer the rows; a shard is written when the next scene would
overflow it, and only then are its scenes marked done in ``out/manifest.json`` (one line
appended to its journal, ``spatialforge.manifest``).  A crashed run therefore resumes at
scene granularity, rewrites the same shards with the same bytes, and never duplicates a
record.  A bad scene (unreadable JSON, missing image, a ``DataError`` from generation) is
skipped with its reason; nothing else is lost.  Any other exception is a bug and stops the run.

Per-scene work runs locally by default, or through ``ray.data`` with ``use_ray=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from ..errors import ConfigError, DataError
from ..files import list_scene_files, probe_image, read_image
from ..manifest import RunManifest, remove_manifest
from ..mirror import flip_horizontal
from ..scene import Scene, SceneError
from .parquet import (DATA_DIR, SCENES_DIR, SHARD_GLOB, SceneRows, encode_png, scene_rows, shard_name, view_columns,
                      write_scene_rows)

from .llm_writer import LLMRewriter

if TYPE_CHECKING:  # pragma: no cover
    from ..tasks.llm import LLMWriterConfig

COMMAND = "generate"
COUNT_KEYS = ("task", "level", "format", "view", "eval_type")
Generator = Callable[..., Any]  # generate_qa(scene, *, seed, qa_per_scene, tasks, ratios, formats, mirror)


class DatasetError(ConfigError):
    """The run cannot start (options, output folder, missing extra); the message says why and what to do."""


def scene_seed(seed: int, scene_id: str) -> int:
    """Per-scene seed from the run seed and the scene id: independent of order and resume."""
    digest = hashlib.sha256(f"{seed}:{scene_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


# --------------------------------------------------------------------------- one scene
@dataclass
class SceneOutcome:
    file: str  # the scene JSON's name under out/scenes
    key: str  # scene id when the scene loaded, else the file name
    table: SceneRows | None = None  # the scene's shard rows (``build_table``)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item, reason) inside the scene
    error: str | None = None  # set: the whole scene was skipped for this reason
    llm: dict[str, int] = field(default_factory=dict)  # LLM writer counts: rewritten / failed


def _default_generator() -> Generator:
    from ..tasks import generate_qa

    return generate_qa


def build_table(
    records: Sequence[Any], scene: Scene, image: Any, *, root: Path, scene_path: Path,
    pngs: dict[tuple[bool, bool], bytes] | None = None,
):
    """Shard rows of one scene's records (``parquet.scene_rows``).

    ``image``: the (H, W, 3) pixels as stored on disk, or a function returning them (called
    at most once, only if an image must be encoded).

    Each distinct image is PNG-encoded once and shared by its records: one per view (original /
    mirrored) and, for records that name an object by a highlighted box
    (``meta["highlight"]``), one more per view with those boxes drawn.  ``pngs`` maps
    ``(flipped, highlighted)`` to encoded bytes; pass a filled one to reuse encodings (the
    original view's PNG as read from disk)."""
    pngs = {} if pngs is None else pngs
    views: list[dict[str, Any]] = []
    view_of: dict[bool, int] = {}  # flipped -> its position in views
    images: list[bytes] = []
    image_of: dict[tuple[bool, bool], int] = {}  # (flipped, highlighted) -> its position in images
    view_index, image_index = [], []
    for rec in records:
        flip = bool(rec.flipped)
        boxes = rec.meta.get("highlight")
        key = (flip, bool(boxes))
        if flip not in view_of:
            view_of[flip] = len(views)
            views.append(view_columns(scene, flip, root=root, scene_path=scene_path, shared=views[0] if views else None))
        if key not in image_of:
            if key not in pngs:
                if callable(image):
                    image = image()
                view_image = flip_horizontal(image) if flip else image
                if boxes:
                    from ..tasks.highlight import draw_highlights

                    view_image = draw_highlights(view_image, boxes)
                pngs[key] = encode_png(view_image)
            image_of[key] = len(images)
            images.append(pngs[key])
        view_index.append(view_of[flip])
        image_index.append(image_of[key])
    return scene_rows(records, views, view_index, images, image_index)


def check_masks(scene: Scene) -> None:
    """Raise ``DataError`` if an object's mask is empty while the scene says it is visible
    (a 2D box with area, or occlusion and truncation both below 1): the masks or the
    visibility are wrong, and questions about what is seen would be too."""
    bad = []
    for o in scene.objects:
        if o.mask is None or o.mask.area:
            continue
        box = o.box2d is not None and o.box2d[2] > o.box2d[0] and o.box2d[3] > o.box2d[1]
        seen = o.occlusion is not None and o.truncation is not None and max(o.occlusion, o.truncation) < 1.0
        if box or seen:
            bad.append(f"object {o.id} ({o.category}): box2d {o.box2d}, occlusion {o.occlusion}, "
                       f"truncation {o.truncation}")
    if bad:
        raise DataError(f"scene {scene.id!r}: {len(bad)} of {len(scene.objects)} objects have an empty mask but "
                        f"the scene says they are visible, e.g. {bad[0]}")


def process_scene(
    scene_path: Path,
    root: Path,
    *,
    seed: int,
    gen_kwargs: dict[str, Any],
    generator: Generator | None = None,
    llm_writer: "LLMRewriter | None" = None,
    scene: Scene | None = None,
) -> SceneOutcome:
    """Generate one scene's rows (the unit of work, local or on Ray).

    ``scene``: the record of ``scene_path`` when the caller holds it already (an import has
    just read and written it), so it is not parsed again.  A ``DataError`` (bad scene file,
    image, depth, nothing to ask) is returned as the outcome's ``error``; anything else is a
    bug and propagates."""
    scene_path, root = Path(scene_path), Path(root)
    if scene is None:
        try:
            scene = Scene.load(scene_path)
        except SceneError as e:
            return SceneOutcome(scene_path.name, scene_path.name, error=str(e))
    try:
        check_masks(scene)
    except DataError as e:
        return SceneOutcome(scene_path.name, scene.id, error=str(e))
    disk = scene.mirrored() if scene.flipped else scene
    image_file, hw = disk._path(disk.image_path), (scene.camera.height, scene.camera.width)
    try:
        fmt, mode, image_bytes = probe_image(image_file, scene.id, hw)
    except SceneError as e:
        return SceneOutcome(scene_path.name, scene.id, error=str(e))
    gen = generator or _default_generator()
    try:
        result = gen(scene, seed=scene_seed(seed, scene.id), **gen_kwargs)
    except DataError as e:
        return SceneOutcome(scene_path.name, scene.id, error=f"generation failed: {e}")
    skipped = [(str(a), str(b)) for a, b in result.skipped]
    records = list(result.records)
    llm_counts: dict[str, int] = {}
    if llm_writer is not None:
        records, notes, llm_counts = llm_writer.rewrite_scene(scene, records)
        skipped.extend(notes)
    # The unflipped view's RGB PNG is already on disk: reuse its bytes, and decode the pixels
    # (~4 ms for 640x480) only if a flipped or highlighted view must be encoded.
    try:
        pngs = {(False, False): image_bytes} if (fmt, mode) == ("PNG", "RGB") else {}
        table = build_table(records, scene, lambda: read_image(image_file, scene.id, hw), root=root,
                            scene_path=scene_path, pngs=pngs)
    except OSError as e:  # e.g. the file went away or is unreadable since the probe
        return SceneOutcome(scene_path.name, scene.id, error=f"scene {scene.id!r}: image file {image_file}: {e}")
    except DataError as e:  # pixels that passed the probe but do not decode
        return SceneOutcome(scene_path.name, scene.id, error=str(e))
    return SceneOutcome(scene_path.name, scene.id, table=table, skipped=skipped, llm=llm_counts)


# --------------------------------------------------------------------------- scene sources
def _same_file(a: Path, b: Path) -> bool:
    """Two stats (a missing ``b`` is one) instead of resolving both paths: ~5 % of importing a scene."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _copy_file(src: Path, dst: Path) -> None:
    """Copy ``src`` onto ``dst``, making its folder only when missing; nothing when both name one
    file (an import into its own folder), which ``copyfile`` finds by stat as ``_same_file`` does."""
    try:
        shutil.copyfile(src, dst)
    except shutil.SameFileError:
        return
    except FileNotFoundError:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def import_scene(src_json: Path, scenes_out: Path, loaded: dict[Path, Scene] | None = None) -> Path:
    """Copy a scene JSON and the files it points to into ``scenes_out``; returns the new JSON.

    Relative paths inside the source folder keep their layout; others go to
    ``<kind>/<scene id>__<name>``.  Missing files are left for the later read to report.
    Raises ``SceneError`` for an unreadable record.  ``loaded``: receives the new JSON's
    record (equal to ``Scene.load`` of it) under its path, so the run need not parse it again.
    """
    scene = Scene.load(src_json)
    src_dir = src_json.parent
    updates: dict[str, str] = {}
    for attr, kind in (("image_path", "images"), ("depth_path", "depth"), ("point_map_path", "point_maps")):
        rel = getattr(scene, attr)
        if rel is None:
            continue
        p = Path(rel)
        inside = not p.is_absolute() and ".." not in p.parts
        src = p if p.is_absolute() else src_dir / p
        new_rel = p.as_posix() if inside else f"{kind}/{scene.id}__{p.name}"
        if src.is_file():
            _copy_file(src, scenes_out / new_rel)
        updates[attr] = new_rel
    dst = scenes_out / src_json.name
    if not _same_file(src_json, dst):
        scene = replace(scene, **updates, root=str(dst.parent))
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(scene.to_json())
    if loaded is not None:
        loaded[dst] = scene
    return dst


# --------------------------------------------------------------------------- executors
def _iter_local(paths: Sequence[Path], fn: Callable[[Path], SceneOutcome]) -> Iterator[SceneOutcome]:
    for p in paths:
        yield fn(p)


def _ray_map_row(row: dict[str, Any], fn: Callable[[Path], SceneOutcome]) -> dict[str, Any]:
    import pickle

    return {"i": row["i"], "outcome": pickle.dumps(fn(Path(row["path"])))}


def _iter_ray(paths: Sequence[Path], fn: Callable[[Path], SceneOutcome]) -> Iterator[SceneOutcome]:
    try:
        import ray
        import ray.data
    except ImportError:
        raise DatasetError(
            "use_ray/--ray needs Ray Data, which is not installed: pip install 'spatialforge[ray]' "
            "(or 'ray[data]'), or drop --ray to run locally"
        ) from None
    import pickle

    if not paths:
        return
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # shards must not depend on scheduling
    items = [{"i": i, "path": str(p)} for i, p in enumerate(paths)]
    ds = ray.data.from_items(items, override_num_blocks=min(len(items), 1000))  # ~one scene per task
    for row in ds.map(partial(_ray_map_row, fn=fn)).iter_rows():
        yield pickle.loads(row["outcome"])


# --------------------------------------------------------------------------- the run
def _norm(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("spatialforge", "numpy", "pyarrow", "datasets", "pillow"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _open_manifest(out: Path, params: dict[str, Any], overwrite: bool) -> RunManifest:
    path = out / "manifest.json"
    if path.exists() and not overwrite:
        try:
            old = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError):
            old = None
        if old and old.get("command") == COMMAND and old.get("params") != params:
            diff = {k: (old["params"].get(k), params.get(k)) for k in params if old["params"].get(k) != params.get(k)}
            raise DatasetError(
                f"{out} holds a run with other parameters {diff} (old, new): resume it with the same "
                "parameters, pick another --out, or pass overwrite=True / --overwrite to start over"
            )
    if overwrite:
        remove_manifest(path)
        shutil.rmtree(out / DATA_DIR, ignore_errors=True)
    manifest = RunManifest.open(path, COMMAND, params, resume=not overwrite)
    manifest.stats.setdefault("shards", [])
    # A crash between writing a shard and recording it leaves a stray file: drop it.
    known = {s["file"] for s in manifest.stats["shards"]}
    for p in (out / DATA_DIR).glob(SHARD_GLOB):
        if p.name not in known:
            p.unlink()
    for p in (out / DATA_DIR).glob("*.tmp"):
        p.unlink()
    return manifest


def _recount(manifest: RunManifest, added: Sequence[dict[str, Any]] = ()) -> None:
    """Bring the run totals in ``manifest.stats`` up to date with the shard entries ``added``
    (just appended); a run without totals yet counts all its shards.  Running totals: re-summing
    every shard per shard was quadratic in the run (1M scenes are 20k shards)."""
    stats = manifest.stats
    base = stats
    if "counts" not in stats:  # no totals yet
        base, added = {}, stats["shards"]
    totals = {k: Counter(base.get("counts", {}).get(k, {})) for k in COUNT_KEYS}
    llm = Counter(base.get("llm_writer", {}))
    for s in added:
        for k in COUNT_KEYS:
            totals[k].update(s["counts"].get(k, {}))
        llm.update(s.get("llm", {}))
    manifest.set_stat("counts", {k: dict(sorted(v.items())) for k, v in totals.items()})
    manifest.set_stat("num_records", base.get("num_records", 0) + sum(s["records"] for s in added))
    manifest.set_stat("num_scenes", base.get("num_scenes", 0) + sum(len(s["scenes"]) for s in added))
    manifest.set_stat("num_shards", len(stats["shards"]))
    if stats.get("versions") != _versions():
        manifest.set_stat("versions", dict(_versions()))
    if llm or "llm_writer" in manifest.params:
        manifest.set_stat("llm_writer", {"rewritten": llm.get("rewritten", 0), "failed": llm.get("failed", 0)})


def _prepare_scenes(
    out: Path, manifest: RunManifest, *, source: str, num_scenes: int | None, scenes_dir: Path | None,
    seed: int, size: tuple[int, int], progress: bool, loaded: dict[Path, Scene] | None = None,
) -> list[Path]:
    """The scene JSONs under ``out/scenes`` to generate from (rendered or imported); ``loaded``
    receives the records an import has read (``import_scene``)."""
    scenes_out = out / SCENES_DIR
    if source == "synthetic":
        listed = manifest.stats.get("scene_files")
        if listed and all((scenes_out / n).is_file() for n in listed):
            return [scenes_out / n for n in listed]  # resume: already rendered
        from ..sources.synthetic import write_scenes

        paths = [Path(p) for p in write_scenes(scenes_out, num=num_scenes, seed=seed, size=size, progress=progress)]
        try:  # scenes the renderer skipped (its own manifest) are listed here too
            rendered = json.loads((scenes_out / "manifest.json").read_text())
            for item, reason in rendered.get("skipped", {}).items():
                manifest.skip(f"render/{item}", reason, flush=False)
        except (OSError, json.JSONDecodeError, AttributeError):
            pass
    else:
        paths = []
        sources = list_scene_files(scenes_dir)[: num_scenes or None]
        if not sources:
            raise DataError(f"{scenes_dir}: no scene JSON files (*.json) to read")
        for src in sources:
            try:
                paths.append(import_scene(src, scenes_out, loaded))
            except DataError as e:
                manifest.skip(src.name, str(e), flush=False)
            except OSError as e:  # a file it points to cannot be copied
                manifest.skip(src.name, f"{src}: cannot copy its files ({e})", flush=False)
    manifest.stats["scene_files"] = [os.path.relpath(p, scenes_out) for p in paths]
    manifest.write()
    return paths


def generate_dataset(
    out: str | Path,
    *,
    source: str = "synthetic",
    num_scenes: int | None = None,
    scenes_dir: str | Path | None = None,
    seed: int = 0,
    qa_per_scene: int = 20,
    tasks: Sequence[str] | None = None,
    ratios: dict[str, float] | None = None,
    formats: Sequence[str] = ("free", "mcq", "tf"),
    mirror: bool = False,
    size: tuple[int, int] = (640, 480),
    shard_size: int = 1000,
    progress: bool = False,
    use_ray: bool = False,
    export: str | None = None,
    think: bool = False,
    overwrite: bool = False,
    generator: Generator | None = None,
    llm_writer: "LLMWriterConfig | None" = None,
    exclude: Any = None,
) -> RunManifest:
    """Build a QA dataset under ``out`` and return its manifest (also at ``out/manifest.json``).

    ``source="synthetic"`` renders ``num_scenes`` scenes (default 10) into ``out/scenes``;
    ``source="folder"`` copies the scene JSONs of ``scenes_dir`` (first ``num_scenes`` by
    name, all when None) and their files there.  Rerunning on the same ``out`` with the
    same parameters resumes; other parameters raise ``DatasetError`` unless ``overwrite``.
    ``shard_size`` bounds records per shard (a scene's records are never split, so one
    scene bigger than it makes one bigger shard).  ``export``: "trl" or "llava" after the
    run.  ``generator`` replaces ``spatialforge.tasks.generate_qa`` (tests, custom tasks).

    ``llm_writer`` (off when None or not ``enabled``): free-form problem-solving records are
    passed through ``tasks.llm.rewrite_record`` (an OpenAI-compatible endpoint rephrases the
    question and writes a reasoning trace; answers stay computed from the scene).  A failed
    rewrite keeps the template record and is listed in the manifest's ``skipped`` as
    ``<scene>/<record id>/llm_writer`` with the reason; ``stats["llm_writer"]`` counts
    rewritten / failed records.  The API key comes from the environment variable
    ``llm_writer.api_key_env`` and is never written anywhere.

    ``exclude`` (a ``decontam.Exclusion``): scenes of its benchmarks are left out and listed
    in the manifest's ``stats["excluded"]``.
    """
    out = Path(out)
    scenes_dir, num_scenes = _check_options(source, scenes_dir, num_scenes, shard_size, export)
    gen_kwargs = {
        "qa_per_scene": qa_per_scene,
        "tasks": None if tasks is None else list(tasks),
        "ratios": None if ratios is None else dict(ratios),
        "formats": tuple(formats),
        "mirror": mirror,
    }
    if llm_writer is not None and not llm_writer.enabled:
        llm_writer = None
    params = _run_params(source=source, num_scenes=num_scenes, scenes_dir=scenes_dir, seed=seed, size=size,
                         shard_size=shard_size, gen_kwargs=gen_kwargs, llm_writer=llm_writer, exclude=exclude)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _open_manifest(out, params, overwrite)
    try:
        loaded: dict[Path, Scene] = {}  # scene records the import has just read: not parsed again
        paths = _prepare_scenes(out, manifest, source=source, num_scenes=num_scenes, scenes_dir=scenes_dir,
                                seed=seed, size=size, progress=progress, loaded=loaded)
        if exclude is not None:  # decontamination: benchmark scenes never reach the QA shards
            paths = exclude.filter_paths(paths, manifest.stats)
        done_files = {f for s in manifest.stats["shards"] for f in s.get("files", [])}
        pending = [p for p in paths if p.name not in done_files]
        fn = partial(process_scene, root=out, seed=seed, gen_kwargs=gen_kwargs, generator=generator,
                     llm_writer=None if llm_writer is None else LLMRewriter(llm_writer))
        if use_ray:
            outcomes = _iter_ray(pending, fn)  # the workers read the scene files themselves
        else:
            outcomes = _iter_local(pending, lambda p: fn(p, scene=loaded.pop(p, None)))
        _write_outcomes(outcomes, manifest, out, shard_size, total=len(pending), progress=progress)
    finally:
        manifest.close()
    _require_records(manifest, out, len(paths))
    if export:
        from .export import export_llava, export_trl

        (export_trl(out, think=think) if export == "trl" else export_llava(out, think=think))
    return manifest


def _require_records(manifest: RunManifest, out: Path, n_scenes: int) -> None:
    """A run that wrote no record is an error naming the first skip (a whole scene first)."""
    if manifest.stats.get("num_records"):
        return
    skips = list(manifest.skipped.items())
    first = next((kv for kv in skips if "/" not in kv[0]), skips[0] if skips else None)
    raise DataError(f"{out}: no records were generated from {n_scenes} scene(s)"
                    + (f"; first skip: {first[0]}: {first[1]}" if first else "")
                    + f" (all reasons in {manifest.path})")


def _check_options(source: str, scenes_dir: str | Path | None, num_scenes: int | None, shard_size: int,
                   export: str | None) -> tuple[Path | None, int | None]:
    """``(scenes_dir, num_scenes)`` checked and defaulted; ``DatasetError`` names a bad option."""
    if source not in ("synthetic", "folder"):
        raise DatasetError(f"source must be 'synthetic' or 'folder', got {source!r}")
    if source == "folder":
        if scenes_dir is None or not Path(scenes_dir).is_dir():
            raise DatasetError(f"source 'folder' needs scenes_dir / --scenes pointing to a folder, got {scenes_dir}")
        scenes_dir = Path(scenes_dir)
    elif num_scenes is None:
        num_scenes = 10
    if shard_size < 1:
        raise DatasetError(f"shard_size must be >= 1, got {shard_size}")
    if export not in (None, "trl", "llava"):
        raise DatasetError(f"export must be 'trl' or 'llava', got {export!r}")
    return (None if scenes_dir is None else Path(scenes_dir)), num_scenes


def _run_params(*, source: str, num_scenes: int | None, scenes_dir: Path | None, seed: int, size: tuple[int, int],
                shard_size: int, gen_kwargs: dict[str, Any], llm_writer: "LLMWriterConfig | None",
                exclude: Any = None) -> dict[str, Any]:
    """The parameters a manifest records (a resumed run must match them), as plain JSON values."""
    return _norm({
        "source": source, "num_scenes": num_scenes,
        "scenes_dir": None if scenes_dir is None else str(Path(scenes_dir).resolve()),
        "seed": seed, "size": list(size), "shard_size": shard_size, **gen_kwargs,
        # only when on, so manifests of runs without the writer resume unchanged; never the key
        **({} if llm_writer is None else {"llm_writer": {
            "base_url": llm_writer.base_url, "model": llm_writer.model, "api_key_env": llm_writer.api_key_env,
            "temperature": llm_writer.temperature}}),
        **({} if exclude is None else {"exclude": exclude.describe()}),
    })


def _write_outcomes(
    outcomes: Iterable[SceneOutcome], manifest: RunManifest, out: Path, shard_size: int, *, total: int, progress: bool,
) -> None:
    buf_tables: list[SceneRows] = []  # one per scene
    buf_n = 0
    buf_scenes: list[str] = []
    buf_files: list[str] = []
    buf_llm: Counter = Counter()
    seen = set(manifest.done)

    def flush() -> None:
        nonlocal buf_n
        if not buf_scenes:
            return
        shards = manifest.stats["shards"]
        name = shard_name(len(shards))
        counts = {k: {} for k in COUNT_KEYS}
        if buf_n:
            write_scene_rows(buf_tables, out / DATA_DIR / name)
            counts = _column_counts(buf_tables)
        entry = {"file": name if buf_n else None, "records": buf_n,
                 "scenes": list(buf_scenes), "files": list(buf_files), "counts": counts}
        if buf_llm:
            entry["llm"] = dict(sorted(buf_llm.items()))
        manifest.append_stat("shards", entry)
        for s in buf_scenes:
            manifest.mark_done(s, flush=False)
        _recount(manifest, [entry])
        manifest.flush()  # one journal line: the shard, its scenes done and the totals, all or none
        buf_tables.clear()
        buf_n = 0
        buf_scenes.clear()
        buf_files.clear()
        buf_llm.clear()

    bar = _progress_bar(progress, total)
    try:
        for oc in outcomes:
            if bar is not None:
                bar[0].advance(bar[1])
            if oc.error is not None:
                manifest.skip(oc.key, oc.error, flush=False)
                continue
            if oc.key in seen:
                manifest.skip(oc.file, f"duplicate scene id {oc.key!r} (another scene file has it)", flush=False)
                continue
            seen.add(oc.key)
            for item, reason in oc.skipped:  # keyed by scene (unless the generator already did)
                key = item if item == oc.key or item.startswith(f"{oc.key}/") else f"{oc.key}/{item}"
                manifest.skip(key, reason, flush=False)
            n = 0 if oc.table is None else oc.table.num_rows
            if buf_n and buf_n + n > shard_size:
                flush()
            if n:
                buf_tables.append(oc.table)
                buf_n += n
            buf_scenes.append(oc.key)
            buf_files.append(oc.file)
            buf_llm.update(oc.llm)
        flush()
    finally:
        if bar is not None:
            bar[0].stop()
        _recount(manifest)


def _column_counts(scenes: Sequence[SceneRows]) -> dict[str, dict[str, int]]:
    """Per ``COUNT_KEYS`` column: how many rows hold each value (as text, sorted).  Values are
    counted as they are and turned into text once each (a column holds one type)."""
    out = {}
    for k in COUNT_KEYS:
        counts = Counter(chain.from_iterable(s.columns[k] for s in scenes))
        out[k] = dict(sorted((str(v), n) for v, n in counts.items()))
    return out


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn("generating QA"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                 console=Console(stderr=True))
    p.start()
    return p, p.add_task("scenes", total=total)
