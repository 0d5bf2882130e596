"""Run a model on benchmarks, score, aggregate and write reports; or score predictions made elsewhere.

Layout of ``out``::

    predictions/<model>/<benchmark>/<style>.jsonl   generation cache (resume: only missing ids run)
    per_sample/<benchmark>.jsonl                    one scored dict per sample
    results.json  results.md  report.html           aggregates, tables, plots, sample predictions

Images are decoded chunk by chunk and only for samples not already cached, so a resumed run
over thousands of questions neither re-generates nor re-reads what it has.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from .benchmarks import Benchmark, BenchmarkError, BenchSample, get_benchmark
from .benchmarks.base import PROMPT_STYLES
from .benchmarks.common import with_rules
from .benchmarks.official import RULES
from ..checks import looks_like_path, model_source
from ..errors import ConfigError
from .predfiles import first_text, position_key, question_image_key, read_records, record_key
from .predictions import PredictionCache, run_requests
from .runners import GenRequest, make_runner, RUNNERS
from .report import write_reports

CHUNK_BATCHES = 8  # batches of requests built (images decoded) at a time
PREDICTION_KEYS = ("prediction", "output", "response", "pred", "text", "filtered_resps", "resps")
LOCAL_MODEL_RUNNERS = ("transformers", "vllm")  # runners that load weights from a folder or hub id


def validate_eval(model: Any, benchmarks: Sequence[str] | str, runner: Any,
                  sources: dict[str, str | Path] | None = None) -> None:
    """Fail before loading anything on an unknown benchmark (``BenchmarkError``) or runner kind,
    a missing model folder or hub id (checked in seconds, see :func:`spatialforge.checks.model_source`)
    or a missing local source (``ConfigError``)."""
    for name in benchmarks.split(",") if isinstance(benchmarks, str) else benchmarks:
        if name.strip():
            get_benchmark(name.strip())
    if isinstance(runner, str):
        if runner not in RUNNERS:
            raise ConfigError(f"runner {runner!r}: unknown; valid runners: {', '.join(sorted(RUNNERS))}")
        if runner in LOCAL_MODEL_RUNNERS and isinstance(model, (str, Path)):
            model_source(str(model), "model")
    for name, src in (sources or {}).items():
        if looks_like_path(str(src)) and not Path(src).expanduser().exists():
            raise ConfigError(f"source {name}={src}: no such file or folder")


def _model_name(model: Any, runner: Any) -> str:
    if isinstance(model, (str, Path)):
        return str(model)
    return str(getattr(runner, "name", None) or getattr(model, "name_or_path", None) or type(model).__name__)


@contextmanager
def _system_prompt(runner: Any, text: str | None) -> Iterator[bool]:
    """Give the runner a benchmark's official system prompt for the duration of the benchmark.

    Yields False when the runner takes no system prompt (the caller then prepends it)."""
    if text is None:
        yield True
        return
    if not hasattr(runner, "system_prompt"):
        yield False
        return
    before = runner.system_prompt
    runner.system_prompt = text
    try:
        yield True
    finally:
        runner.system_prompt = before


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    tmp.replace(path)


def cache_id(bench: Benchmark, sample: BenchSample, num_frames: int | None = None) -> str:
    """The prediction-cache key of a sample: its id; for a multi-image or video sample, the id plus
    a digest of every image reference (file names, not folders, so a moved source stays cached),
    the video and its frame count, so a changed image list or ``num_frames`` generates again."""
    if len(sample.images) <= 1 and sample.video is None:
        return sample.id  # single-image keys stay as they always were: old caches resume
    h = hashlib.sha1()
    refs = list(sample.images)
    if sample.video is not None:
        refs += sample.video if isinstance(sample.video, (list, tuple)) else [sample.video]
        h.update(f"frames={bench.frame_count(sample, num_frames)};".encode())
    for ref in refs:
        if isinstance(ref, (str, Path)):
            h.update(b"p:" + Path(str(ref)).name.encode())
        elif isinstance(ref, (bytes, bytearray)):
            h.update(b"b:" + hashlib.sha1(ref).digest())
        else:  # a PIL image
            h.update(b"i:" + hashlib.sha1(ref.tobytes()).digest() + str(ref.size).encode())
        h.update(b";")
    return f"{sample.id}@{h.hexdigest()[:12]}"


def generate_predictions(
    bench: Benchmark,
    samples: Sequence[BenchSample],
    runner: Any,
    cache: Any,
    *,
    prompt_style: str,
    batch_size: int,
    max_new_tokens: int,
    progress: bool,
    num_frames: int | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """``(outputs by sample id, failures by sample id)``, generating only what the cache lacks.
    ``num_frames`` overrides the frames sampled per video (default: the sample's, else the benchmark's)."""
    keys = {s.id: cache_id(bench, s, num_frames) for s in samples}
    by_key = {k: sid for sid, k in keys.items()}
    outputs: dict[str, str] = {s.id: cache.get(keys[s.id]) for s in samples if keys[s.id] in cache}
    failed: dict[str, str] = {}
    todo = [s for s in samples if s.id not in outputs]
    system = bench.system_prompt(samples[0]) if samples else None
    with _system_prompt(runner, system) as taken:
        prefix = "" if taken or not system else system + "\n\n"
        step = batch_size * CHUNK_BATCHES
        for start in range(0, len(todo), step):
            requests = [
                GenRequest(id=keys[s.id], prompt=prefix + bench.build_prompt(s, prompt_style),
                           images=bench.load_images(s), video=bench.load_video(s, num_frames))
                for s in todo[start : start + step]
            ]  # fmt: skip
            res = run_requests(runner, requests, cache, batch_size=batch_size, progress=progress, max_new_tokens=max_new_tokens)
            outputs.update((by_key[k], v) for k, v in res.outputs.items())
            failed.update((by_key[k], v) for k, v in res.failed.items())
    return outputs, failed


def score_all(bench: Benchmark, samples: Sequence[BenchSample], outputs: dict[str, str], judge: Any = None) -> list[dict[str, Any]]:
    """Per-sample dicts; a sample without an output is scored as an empty answer and marked ``missing``."""
    return [bench.score(s, outputs.get(s.id), judge=judge) for s in samples]


def _benchmark_names(benchmarks: Sequence[str] | str) -> list[str]:
    return [b.strip() for b in (benchmarks.split(",") if isinstance(benchmarks, str) else benchmarks) if b.strip()]


def _check_options(names: list[str], sources: dict[str, Any], *, prompt_style: str, rules: str, batch_size: int,
                   num_frames: int | None) -> None:  # fmt: skip
    """Usage errors, raised before any benchmark or model is loaded."""
    if not names:
        raise BenchmarkError("no benchmarks given")
    if prompt_style not in PROMPT_STYLES:
        raise BenchmarkError(f"prompt style must be one of {PROMPT_STYLES}, got {prompt_style!r}")
    if rules not in RULES:
        raise BenchmarkError(f"rules must be one of {RULES}, got {rules!r}")
    if batch_size < 1:
        raise BenchmarkError(f"batch_size must be >= 1, got {batch_size}")
    if num_frames is not None and num_frames < 1:
        raise BenchmarkError(f"num_frames must be >= 1, got {num_frames}")
    unknown = sorted(set(sources) - set(names))
    if unknown:
        raise BenchmarkError(f"--source given for benchmarks not being evaluated: {', '.join(unknown)}")


def _load_samples(benches: dict[str, Benchmark], sources: dict[str, Any], limit: int | None) -> dict[str, list[BenchSample]]:
    """Every benchmark's samples (before the model is loaded: a bad source fails in seconds)."""
    loaded = {name: bench.load(sources.get(name), limit=limit) for name, bench in benches.items()}
    for name, samples in loaded.items():
        if not samples:
            raise BenchmarkError(f"{name}: no samples loaded from {sources.get(name) or benches[name].hf_id}")
    return loaded


def _run_benchmark(name: str, bench: Benchmark, samples: list[BenchSample], runner: Any, cache: Any, out: Path, *,
                   judge: Any, rules: str, mirror: bool, model_name: str, **gen: Any) -> dict[str, Any]:  # fmt: skip
    """Generate (resuming from ``cache``), score, aggregate and write one benchmark's per-sample file;
    with ``mirror``, also the mirrored benchmark's consistency (:mod:`spatialforge.eval.mirror_eval`)."""
    outputs, failed = generate_predictions(bench, samples, runner, cache, **gen)
    per_sample = score_all(bench, samples, outputs, judge=judge)
    for r in per_sample:
        if r["id"] in failed:
            r["error"] = f"generation failed: {failed[r['id']]}"
    aggregate = with_rules(bench.aggregate(per_sample), rules)
    aggregate["n_generation_failed"] = len(failed)
    if mirror:
        from .mirror_eval import evaluate_mirrored  # import cycle: mirror_eval generates and scores through this module

        aggregate["mirror"] = evaluate_mirrored(
            bench, samples, per_sample, runner, out=out, model_name=model_name, judge=judge,
            prompt_style=gen["prompt_style"], batch_size=gen["batch_size"], max_new_tokens=gen["max_new_tokens"],
            progress=gen["progress"])  # fmt: skip
    _write_jsonl(out / "per_sample" / f"{name}.jsonl", per_sample)
    return {"aggregate": aggregate, "per_sample": per_sample, "samples": samples}  # samples: report thumbnails


def _run_meta(model_name: str, runner: Any, judge: Any, seconds: float, **options: Any) -> dict[str, Any]:
    return {
        "model": model_name,
        "runner": getattr(runner, "name", type(runner).__name__) if not isinstance(runner, str) else runner,
        "runner_class": type(runner).__name__,
        **options,
        "video_input": getattr(runner, "video_input", None),  # how video frames reached the model
        "judge": None if judge is None else getattr(judge, "model", type(judge).__name__),
        "judge_stats": judge.summary() if hasattr(judge, "summary") else None,  # failures are reported, not hidden
        "seconds": round(seconds, 1),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def evaluate(
    model: Any,
    benchmarks: Sequence[str] | str,
    *,
    runner: Any = "transformers",
    limit: int | None = None,
    prompt_style: str = "plain",
    out: str | Path = "eval_out",
    batch_size: int = 8,
    judge: Any = None,
    sources: dict[str, str | Path] | None = None,
    max_new_tokens: int = 256,
    runner_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    rules: str = "ours",
    coord_scale: str | None = None,
    num_frames: int | None = None,
    mirror: bool = False,
) -> dict[str, Any]:
    """Evaluate ``model`` on each benchmark; returns ``{"benchmarks": {name: aggregate}, "paths": ...}``.

    ``runner``: a runner kind (``transformers``/``vllm``/``openai``) or a runner object.
    ``sources``: benchmark name -> local path or dataset id (default: the benchmark's hub id).
    ``judge``: an LLM judge for the samples only a judge can score (else reported unjudged).
    ``rules``: ``ours`` or ``official`` -- which rule gives each headline; both numbers are
    always reported (``ours``, ``official``, ``official_minus_ours`` in each aggregate).
    ``coord_scale``: the grid of 2D boxes/points in answers (``spatialforge.eval.coords``);
    None: the model profile, else each benchmark's default.
    ``num_frames``: frames sampled per video sample (None: the sample's, else the benchmark's default).
    ``mirror``: also evaluate each benchmark's mirrored version and report mirror consistency
    (``aggregate["mirror"]``, :mod:`spatialforge.eval.mirror_eval`).
    """
    names, sources = _benchmark_names(benchmarks), dict(sources or {})
    _check_options(names, sources, prompt_style=prompt_style, rules=rules, batch_size=batch_size, num_frames=num_frames)
    benches = {n: get_benchmark(n) for n in names}  # fail on a bad name before loading a model
    validate_eval(model, names, runner, sources)
    loaded = _load_samples(benches, sources, limit)
    if isinstance(runner, str):
        runner = make_runner(runner, model, **(runner_kwargs or {}))
    model_name = _model_name(model, runner)
    coords = {n: b.set_coord_scale(coord_scale, model_name) for n, b in benches.items()}
    out, t0 = Path(out), time.time()
    results = {
        name: _run_benchmark(
            name, bench, loaded[name], runner, PredictionCache.for_run(out / "predictions", model_name, name, prompt_style),
            out, judge=judge, rules=rules, prompt_style=prompt_style, batch_size=batch_size,
            max_new_tokens=max_new_tokens, progress=progress, num_frames=num_frames, mirror=mirror, model_name=model_name,
        )  # fmt: skip
        for name, bench in benches.items()
    }
    meta = _run_meta(model_name, runner, judge, time.time() - t0, prompt_style=prompt_style, rules=rules,
                     coord_scale=coords, limit=limit, num_frames=num_frames, mirror=mirror or None)  # fmt: skip
    paths = write_reports(results, out, meta)
    return {"meta": meta, "benchmarks": {n: r["aggregate"] for n, r in results.items()}, "paths": {k: str(v) for k, v in paths.items()}}


def read_predictions(path: str | Path) -> tuple[dict[str, str], int]:
    """``({key: text}, duplicate count)`` from a prediction file: our JSONL of ``{"id",
    "prediction"|"output"|...}`` lines, or a file the official tools write (``predfiles``).

    A malformed record is an error naming the file and line number (nothing is guessed)."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"predictions file {path} not found")
    preds: dict[str, str] = {}
    duplicates = 0
    for n, rec in read_records(path):
        key, by_question = record_key(rec) if isinstance(rec, dict) else (None, False)
        if key is None:
            raise BenchmarkError(f"{path}:{n}: expected an object with an 'id' field")
        fields = PREDICTION_KEYS + (("answer",) if by_question else ())  # RoboSpatial results: "answer"
        field = next((k for k in fields if k in rec), None)
        if field is None:
            raise BenchmarkError(f"{path}:{n}: no prediction field (one of {', '.join(fields)})")
        value = first_text(rec[field])
        if value is not None and not isinstance(value, str):
            raise BenchmarkError(f"{path}:{n}: field {field!r} must be a string, got {type(value).__name__}")
        duplicates += key in preds
        if value is not None:
            preds[key] = value
    return preds, duplicates


def _match(samples: Sequence[BenchSample], preds: dict[str, str]) -> tuple[dict[str, str], set[str]]:
    """Predictions by sample id (by id, lmms-eval position or question + image) and the keys used."""
    outputs: dict[str, str] = {}
    used: set[str] = set()
    for i, s in enumerate(samples):
        for key in (s.id, position_key(i), question_image_key(s.question, s.meta.get("img"))):
            if key in preds:
                outputs[s.id] = preds[key]
                used.add(key)
                break
    return outputs, used


def score_predictions(
    predictions_jsonl: str | Path,
    benchmark: str,
    source: str | Path | None = None,
    *,
    limit: int | None = None,
    judge: Any = None,
    out: str | Path | None = None,
    rules: str = "ours",
    coord_scale: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Score a predictions file against a benchmark; ids the file lacks are counted (``n_missing``)
    and scored as empty answers, ids the benchmark lacks are counted (``n_unknown_ids``).
    ``rules`` picks the headline (``ours``/``official``); both are reported. ``coord_scale``
    / ``model`` (its name selects a profile) set the grid of 2D coordinates in answers."""
    if rules not in RULES:
        raise BenchmarkError(f"rules must be one of {RULES}, got {rules!r}")
    bench = get_benchmark(benchmark)
    bench.set_coord_scale(coord_scale, model)
    preds, duplicates = read_predictions(predictions_jsonl)
    samples = bench.load(source, limit=limit)
    if not samples:
        raise BenchmarkError(f"{benchmark}: no samples loaded from {source or bench.hf_id}; nothing to score against")
    outputs, used = _match(samples, preds)
    per_sample = score_all(bench, samples, outputs, judge=judge)
    aggregate = with_rules(bench.aggregate(per_sample), rules)
    unknown = sorted(set(preds) - used)
    aggregate.update(n_unknown_ids=len(unknown), unknown_ids=unknown[:20], n_duplicate_ids=duplicates,
                     coord_scale=bench.coord_scale, coord_scale_from=bench.coord_origin)
    if judge is not None and hasattr(judge, "summary"):  # judge failures in the output, not only on stderr
        aggregate["judge_stats"] = judge.summary()
    result = {"benchmark": benchmark, "aggregate": aggregate, "per_sample": per_sample}
    if out is not None:
        _write_jsonl(Path(out) / "per_sample" / f"{benchmark}.jsonl", per_sample)
        result["paths"] = {k: str(v) for k, v in write_reports(
            {benchmark: {"aggregate": aggregate, "per_sample": per_sample, "samples": samples}}, out,
            {"predictions": str(predictions_jsonl), "benchmark": benchmark, "source": str(source or bench.hf_id),
             "rules": rules},
        ).items()}  # fmt: skip
    return result
