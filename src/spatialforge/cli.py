"""The ``spatialforge`` command line: thin Typer wrappers over library functions.

Each command parses its options, checks its paths (``spatialforge.checks``), calls one library
function and prints a summary; heavy imports happen inside the command so ``spatialforge --help``
stays fast. Expected errors end as one ``error: ...`` line (see ``_Group``), bugs as tracebacks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from .errors import ConfigError, SpatialforgeError

MAX_INT = 2**63 - 1  # seeds and counts end up in int64 columns, numpy seeds and JSON
MIN_SIDE, MAX_SIDE = 16, 8192  # image sides: smaller leaves no room for objects, larger no memory
console = Console(stderr=True)


def _error(message: str, code: int) -> int:
    """One line on stderr, never a traceback: the user's input is at fault, not the code."""
    typer.echo(f"error: {message}", err=True)
    return code


class _Group(TyperGroup):
    """Every expected error ends as one ``error: ...`` line: option errors and ``ConfigError``
    exit 2, other ``SpatialforgeError`` 1. Any other exception is a bug and keeps its traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
            code = rv if isinstance(rv, int) else 0  # an explicit typer.Exit comes back as its code
        except typer.TyperException as e:  # typer's (vendored) click errors: bad option values and the like
            if type(e).__name__ == "NoArgsIsHelpError":
                code = e.exit_code  # the help text has been printed
            else:
                ctx = getattr(e, "ctx", None)
                code = _error(e.format_message() + (f" (see `{ctx.command_path} --help`)" if ctx else ""), e.exit_code)
        except typer.Abort:
            code = _error("aborted", 1)
        except SpatialforgeError as e:
            code = _error(str(e), 2 if isinstance(e, ConfigError) else 1)
        except ModuleNotFoundError as e:  # an optional dependency group is not installed
            from .extras import extras_for, install_hint

            if not extras_for(e.name):
                raise
            code = _error(install_hint(e.name, "this command"), 1)
        if not standalone_mode:
            return code
        sys.exit(code)


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  help="spatialforge: teach vision-language models 3D spatial reasoning, data to evaluation.")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size: expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise ConfigError(f"--size {text}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels")
    return w, h


def _seed(help: str = "Random seed: same seed, same bytes.") -> Any:
    return typer.Option(0, "--seed", min=0, max=MAX_INT, help=help)


_SIZE_HELP = f"Image size WIDTHxHEIGHT, each side {MIN_SIDE} to {MAX_SIDE} pixels."


@app.command()
def scenes(
    out: Path = typer.Option(..., "--out", help="Folder for images/, depth/, masks/ and one JSON per scene."),
    num: int = typer.Option(10, "--num", min=1, max=MAX_INT, help="Number of scenes."),
    seed: int = _seed(),
    size: str = typer.Option("640x480", "--size", help=_SIZE_HELP),
) -> None:
    """Render procedural indoor scenes with exact ground truth (RGB, metric depth, masks)."""
    from .checks import out_folder
    from .extras import require

    wh = _size(size)
    require("render", "spatialforge scenes")
    out_folder(out)
    from .sources.synthetic import write_scenes

    paths = write_scenes(out, num=num, seed=seed, size=wh, progress=True)
    console.print(f"wrote {len(paths)} scenes to {out}")


@app.command()
def geometry(
    folder: Path = typer.Argument(..., help="Folder of scene JSON files with depth and masks."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where estimated scenes go (default: FOLDER/estimated)."),
    use_gravity: bool = typer.Option(False, "--use-camera-gravity/--estimate-gravity",
                                     help="Trust the scene's camera rotation or estimate gravity from the floor."),
) -> None:
    """Re-estimate every scene's 3D boxes from depth and masks alone."""
    from .checks import in_folder, out_folder

    in_folder(folder, "scene folder")
    if not any(p.name != "manifest.json" for p in folder.glob("*.json")):
        raise ConfigError(f"scene folder {folder}: no scene JSON files in it")
    target = out if out is not None else folder / "estimated"
    if target.resolve() == folder.resolve():
        raise ConfigError(f"--out {out}: must differ from the scene folder (the inputs would be overwritten)")
    out_folder(target)
    from .geometry.estimate import estimate_folder

    manifest = estimate_folder(folder, out=out, use_camera_gravity=use_gravity, progress=True)
    console.print(f"estimated {len(manifest.done)} scenes, skipped {len(manifest.skipped)}; manifest: {manifest.path}")
    for item, reason in manifest.skipped.items():
        console.print(f"  skipped {item}: {reason}")
    if not manifest.done:
        raise SpatialforgeError(f"{folder}: no scene could be estimated (reasons above and in {manifest.path})")


@app.command()
def perceive(
    images: Path = typer.Argument(..., help="Folder of image files (PNG, JPEG, TIFF, BMP, WebP)."),
    perception: Path = typer.Option(..., "--perception", help="Perception config (configs/perception/*.yaml)."),
    out: Path = typer.Option(..., "--out", help="Folder for the perceived scene JSONs, images/, depth/, masks/."),
    use_ray: bool = typer.Option(False, "--ray", help="Run the stages as Ray Data actor pools (needs ray)."),
    ray_workers: int = typer.Option(1, "--ray-workers", min=1, max=MAX_INT, help="With --ray: actors per stage."),
) -> None:
    """Turn ordinary images into scene JSONs (metric depth, boxes, masks, 3D boxes); see docs/perception.md."""
    from .sources.images import perceive_folder

    m = perceive_folder(images, perception, out, use_ray=use_ray, ray_workers=ray_workers)
    console.print(f"perceived {len(m.done)} images, skipped {len(m.skipped)}; manifest: {m.path}")
    for item, reason in m.skipped.items():
        console.print(f"  skipped {item}: {reason}")


def _exclusion(spec: Optional[str]):
    """``--exclude-benchmark``: the benchmarks' scene ids (``spatialforge.decontam``), or None."""
    if spec is None:
        return None
    from .decontam import load_exclusion

    return load_exclusion(spec)


@app.command()
def generate(  # long only in its option declarations: one line per CLI option
    out: Path = typer.Option(..., "--out", help="Dataset folder: manifest.json, scenes/, data/shard-*.parquet."),
    source: str = typer.Option("synthetic", "--source",
                               help="synthetic (render scenes), folder (--scenes DIR) or images (--images DIR --perception CFG)."),
    num_scenes: Optional[int] = typer.Option(None, "--num-scenes", min=1, max=MAX_INT,
                                             help="Scenes to use (synthetic default 10; folder default all)."),
    scenes_dir: Optional[Path] = typer.Option(None, "--scenes", help="Folder of scene JSONs for --source folder."),
    images_dir: Optional[Path] = typer.Option(None, "--images", help="Folder of image files for --source images."),
    perception: Optional[Path] = typer.Option(None, "--perception", help="Perception config for --source images."),
    mirror: bool = typer.Option(False, "--mirror", help="Add the exact mirrored partner of every question."),
    seed: int = _seed(),
    qa_per_scene: int = typer.Option(20, "--qa-per-scene", min=1, max=MAX_INT,
                                     help="Questions per scene (before mirroring)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task names (default: all)."),
    size: str = typer.Option("640x480", "--size", help="Synthetic " + _SIZE_HELP[0].lower() + _SIZE_HELP[1:]),
    shard_size: int = typer.Option(1000, "--shard-size", min=1, max=MAX_INT, help="Records per Parquet shard (at most)."),
    export: Optional[str] = typer.Option(None, "--export", help="Also export: trl or llava."),
    think: bool = typer.Option(False, "--think", help="Exports: add the <think>/<answer> instruction."),
    use_ray: bool = typer.Option(False, "--ray", help="Run per-scene generation (and perception) on Ray Data (needs ray)."),
    ray_workers: int = typer.Option(1, "--ray-workers", min=1, max=MAX_INT,
                                    help="With --ray --source images: actors per perception stage."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over instead of resuming a run in --out."),
    llm_base_url: Optional[str] = typer.Option(
        None, "--llm-base-url", help="OpenAI-compatible endpoint of an LLM that rewrites problem-solving questions "
        "(off unless this or --llm-model is given)."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name for the LLM writer."),
    llm_key_env: str = typer.Option("OPENAI_API_KEY", "--llm-key-env",
                                    help="Environment variable holding the LLM writer's API key (never logged)."),
    exclude_benchmark: Optional[str] = typer.Option(
        None, "--exclude-benchmark", help="Leave out the scenes of these benchmarks: NAME[=PATH],... "
        "(e.g. vsibench=/data/VSI-Bench/test.jsonl); listed in the manifest."),
) -> None:
    """Generate a hierarchical spatial QA dataset (sharded Parquet), resuming a crashed run."""
    from .checks import in_folder, out_folder

    from .extras import require

    wh = _size(size)
    if scenes_dir is not None:
        in_folder(scenes_dir, "--scenes")
    if source == "synthetic":
        require("render", "spatialforge generate --source synthetic")
    out_folder(out)
    from .datasets import DatasetError, generate_dataset

    llm_writer = None
    if llm_base_url is not None or llm_model is not None:
        from .tasks.llm import LLMWriterConfig

        defaults = LLMWriterConfig()
        try:
            llm_writer = LLMWriterConfig(enabled=True, base_url=llm_base_url or defaults.base_url,
                                         model=llm_model or defaults.model, api_key_env=llm_key_env)
        except ValueError as e:
            raise ConfigError(f"LLM writer: {e}") from None

    run = generate_dataset
    if source == "images":  # perceive the images, then generate from those scenes (sources/images.py)
        from .sources.images import generate_from_images

        if images_dir is None or perception is None:
            raise ConfigError("--source images needs --images DIR and --perception CONFIG")

        def run(out, source, scenes_dir, **kw):  # noqa: F811 - source/scenes_dir are the images' own
            return generate_from_images(images_dir, perception, out, ray_workers=ray_workers, **kw)

    try:
        m = run(
            out, source=source, num_scenes=num_scenes, scenes_dir=scenes_dir, seed=seed, qa_per_scene=qa_per_scene,
            tasks=None if tasks is None else [t.strip() for t in tasks.split(",") if t.strip()], mirror=mirror,
            size=wh, shard_size=shard_size, progress=True, use_ray=use_ray, export=export, think=think,
            overwrite=overwrite, llm_writer=llm_writer, exclude=_exclusion(exclude_benchmark),
        )
    except DatasetError as e:
        raise ConfigError(str(e)) from None
    console.print(f"{m.stats.get('num_records', 0)} records from {m.stats.get('num_scenes', 0)} scenes in "
                  f"{m.stats.get('num_shards', 0)} shards, {len(m.skipped)} skipped; manifest: {m.path}")
    if "llm_writer" in m.stats:
        w = m.stats["llm_writer"]
        console.print(f"LLM writer: {w['rewritten']} problem-solving records rewritten, {w['failed']} kept the "
                      "template (reasons in the manifest's skipped)")
    if not m.stats.get("num_records"):
        where = f"{len(m.skipped)} skipped, reasons in {m.path}" if m.skipped else f"no scenes in {scenes_dir or source}"
        raise SpatialforgeError(f"no records generated ({where})")


@app.command()
def show(
    folder: Path = typer.Argument(..., help="Dataset folder written by `spatialforge generate`."),
    num: int = typer.Option(24, "--num", min=1, max=MAX_INT, help="Records to show (each with its mirrored partner)."),
    out: Optional[Path] = typer.Option(None, "--out", help="HTML file (default: FOLDER/show.html)."),
    seed: int = _seed("Which records are sampled."),
) -> None:
    """Write a self-contained HTML page of sample records with their boxes drawn."""
    from .checks import in_folder, out_file
    from .datasets.parquet import shard_paths

    in_folder(folder, "dataset folder")
    shards = shard_paths(folder)
    if not shards:
        raise ConfigError(f"dataset folder {folder}: no data/shard-*.parquet files (write one with `spatialforge generate`)")
    _check_shards(shards)
    out_file(out if out is not None else folder / "show.html")
    from .viz.show import build_show_page

    console.print(f"wrote {build_show_page(folder, num=num, out=out, seed=seed)}")


@app.command("app")
def app_cmd(
    dataset: Optional[Path] = typer.Option(None, "--dataset", help="Dataset folder to explore (make demo: demo_out)."),
    eval_a: Optional[Path] = typer.Option(None, "--eval-a", help="Eval output folder A for the compare view."),
    eval_b: Optional[Path] = typer.Option(None, "--eval-b", help="Eval output folder B for the compare view."),
    perception: Optional[Path] = typer.Option(None, "--perception", help="Perception config for the ask view "
                                              "(default: configs/perception/tiny_cpu.yaml, tiny CPU models)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default: Gradio's, 7860 or the next free one)."),
) -> None:
    """Serve the web page: explore a dataset, ask about your own image, compare eval runs (docs/app.md)."""
    from .extras import require

    require("app", "spatialforge app")
    from .app.server import check_inputs, serve

    check_inputs(dataset, eval_a, eval_b, perception)
    serve(dataset, eval_a, eval_b, perception, host=host, port=port)


def _check_shards(shards: list[Path]) -> None:
    """Read each shard's footer (cheap): a truncated or foreign file is named before any work."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .errors import DataError

    for shard in shards:
        try:
            pq.read_metadata(shard)
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"{shard}: not a readable Parquet shard ({str(e).splitlines()[0]})") from None


def _sources(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f"--source takes NAME=PATH (e.g. cvbench=/data/CV-Bench), got {item!r}")
        out[name.strip()] = path.strip()
    return out


def _judge(url: Optional[str], model: Optional[str], out: Path):
    if (url is None) != (model is None):
        raise ConfigError("--judge-url and --judge-model go together")
    if url is None:
        return None
    from .eval.judge import LLMJudge

    return LLMJudge(url, model, cache_dir=out / "judge")


@app.command("eval")
def eval_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Model path or hub id (served model name for --runner openai)."),
    benchmarks: Optional[str] = typer.Option(None, "--benchmarks", help="Comma-separated benchmark names (see --list)."),
    source: list[str] = typer.Option([], "--source", help="NAME=PATH: local copy or dataset id of a benchmark (repeatable)."),
    runner: str = typer.Option("transformers", "--runner", help="transformers, vllm or openai."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, max=MAX_INT, help="First N samples of each benchmark."),
    prompt: str = typer.Option("plain", "--prompt", help="Prompt style: plain (official), think or spatial."),
    out: Path = typer.Option(Path("eval_out"), "--out", help="Folder for predictions, per-sample scores and reports."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, max=MAX_INT, help="Requests per generation batch."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, max=MAX_INT, help="Generation length limit."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Endpoint for --runner openai (default: $OPENAI_BASE_URL)."),
    judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint of the LLM judge."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model name."),
    list_: bool = typer.Option(False, "--list", help="List the benchmarks and exit."),
    rules: str = typer.Option("ours", "--rules", help="Headline rules: ours or official (both are reported)."),
    coord_scale: Optional[str] = typer.Option(None, "--coord-scale", help="Grid of 2D boxes/points in answers: auto, pixel, unit, thousand, qwen25 (default: model profile, else the benchmark's)."),
    num_frames: Optional[int] = typer.Option(None, "--num-frames", min=1, max=MAX_INT, help="Frames sampled uniformly per video sample (default: the benchmark's, e.g. 32 for VSI-Bench)."),
    mirror: bool = typer.Option(False, "--mirror", help="Also evaluate the mirrored benchmark (rules + flipped images) and report mirror consistency."),
) -> None:
    """Evaluate a model on spatial benchmarks; resumes from cached predictions in --out."""
    from .eval.benchmarks import BenchmarkError, get_benchmark, list_benchmarks

    if list_:
        for name in list_benchmarks():
            b = get_benchmark(name)
            typer.echo(f"{name:22s} {b.hf_id or '(local source)':32s} {b.description}")
        return
    if not model or not benchmarks:
        raise ConfigError("--model and --benchmarks are required (or --list)")
    from .checks import out_folder
    from .eval.evaluate import evaluate, validate_eval
    sources = _sources(source)
    from .extras import require

    kwargs = {"base_url": base_url} if runner == "openai" and base_url else {}
    if runner in ("transformers", "vllm"):
        require("eval", f"spatialforge eval --runner {runner}")
        if model.startswith("tiny:"):  # the offline tiny models of the tests and the quick tour
            from .models.tiny import resolve_model_path

            model = resolve_model_path(model)
    try:
        validate_eval(model, benchmarks, runner, sources)  # before the out folder, the judge and the model
        out_folder(out)
        res = evaluate(model, benchmarks, runner=runner, limit=limit, prompt_style=prompt, out=out, batch_size=batch_size,
                       judge=_judge(judge_url, judge_model, out), sources=sources, max_new_tokens=max_new_tokens,
                       runner_kwargs=kwargs, progress=True, rules=rules, coord_scale=coord_scale,
                       num_frames=num_frames, mirror=mirror)  # fmt: skip
    except BenchmarkError as e:
        raise ConfigError(str(e)) from None
    from .eval.report import fmt

    for name, agg in res["benchmarks"].items():
        console.print(f"{name}: {agg['metric']} = {fmt(agg['metric'], agg['overall'])} (n={agg['n']})")
        if agg.get("mirror"):
            from .eval.mirror_eval import print_mirror_table

            print_mirror_table(console, name, agg["mirror"])
    console.print(f"reports: {res['paths']['html']}")
    dead = [name for name, agg in res["benchmarks"].items() if agg["n"] and agg.get("n_generation_failed", 0) >= agg["n"]]
    if dead:
        raise SpatialforgeError(f"every generation request failed for {', '.join(dead)}: {_first_failure(out, dead[0])}")


def _first_failure(out: Path, bench: str) -> str:
    """The first recorded generation failure of ``bench`` (reasons are in its per-sample file)."""
    import json

    path = out / "per_sample" / f"{bench}.jsonl"
    with path.open(encoding="utf-8") as f:
        for line in f:
            err = json.loads(line).get("error")
            if err:
                return f"{err} (all reasons in {path})"
    return f"see {path}"


@app.command("score")
def score_cmd(
    predictions: Path = typer.Argument(..., help="JSONL with one {\"id\", \"prediction\"} object per line."),
    benchmark: str = typer.Option(..., "--benchmark", help="Benchmark name (see `spatialforge eval --list`)."),
    source: Optional[str] = typer.Option(None, "--source", help="Local copy or dataset id (default: the hub id)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write per-sample scores and reports here."),
    judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint of the LLM judge."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model name."),
    rules: str = typer.Option("ours", "--rules", help="Headline rules: ours or official (both are reported)."),
    coord_scale: Optional[str] = typer.Option(None, "--coord-scale", help="Grid of 2D boxes/points in answers: auto, pixel, unit, thousand, qwen25."),
    model: Optional[str] = typer.Option(None, "--model", help="Name of the model that made the predictions (selects its coordinate profile)."),
) -> None:
    """Score predictions made elsewhere against a benchmark; prints the aggregate as JSON."""
    import json

    from .checks import out_folder
    from .eval.benchmarks import BenchmarkError
    from .eval.evaluate import score_predictions

    if not predictions.is_file():
        problem = "not found" if not predictions.exists() else "is a folder" if predictions.is_dir() else "not a regular file"
        raise ConfigError(f"predictions file {predictions}: {problem}")
    if out is not None:
        out_folder(out)
    try:
        res = score_predictions(predictions, benchmark, source, out=out,
                                judge=_judge(judge_url, judge_model, out or predictions.parent),
                                rules=rules, coord_scale=coord_scale, model=model)
    except BenchmarkError as e:
        raise ConfigError(str(e)) from None
    typer.echo(json.dumps(res["aggregate"], indent=2, default=str))


train_app = typer.Typer(no_args_is_help=True, help="Train a VLM from a recipe YAML (SFT or Spatial-GRPO).")
app.add_typer(train_app, name="train")


def _train(kind: str, config: Path, override: list[str]) -> None:
    """Only what is checked before training starts is a usage error (``RecipeError`` is a
    ``ConfigError``); any other exception, even a ``ValueError`` hours in, keeps its traceback."""
    from .train.recipes import RecipeError, load_recipe, run_recipe, validate_recipe

    recipe = load_recipe(config, override)
    if recipe.kind != kind:
        raise RecipeError(f"{config} is a {recipe.kind!r} recipe; run `spatialforge train {recipe.kind}`")
    trainer = run_recipe(validate_recipe(recipe))
    console.print(f"{kind}: {trainer.state.global_step} steps; model saved to {trainer.args.output_dir}")


_CONFIG = typer.Option(..., "--config", "-c", exists=True, dir_okay=False, help="Recipe YAML (see configs/).")
_OVERRIDE = typer.Option([], "--override", "-o", help="key.path=value, repeatable (training.max_steps=10).")


@train_app.command("sft")
def train_sft(config: Path = _CONFIG, override: list[str] = _OVERRIDE) -> None:
    """Supervised fine-tuning (TRL SFTTrainer) with task ratios, general-VQA mixing, LoRA."""
    _train("sft", config, override)


@train_app.command("grpo")
def train_grpo(config: Path = _CONFIG, override: list[str] = _OVERRIDE) -> None:
    """Spatial-GRPO (TRL GRPOTrainer + mirror-consistency correction), vLLM rollouts optional."""
    _train("grpo", config, override)


@app.command()
def ingest(
    dataset: str = typer.Argument(..., help="omni3d, ca1m, arkitscenes, scannet or hypersim (see docs/datasets.md)."),
    input: Path = typer.Argument(..., help="The dataset's files: a JSON, tar or capture folder, or a folder of them."),
    out: Path = typer.Option(..., "--out", help="Scene folder for `generate --source folder --scenes`."),
    every: int = typer.Option(1, "--every", help="Keep every N-th frame."),
    num: Optional[int] = typer.Option(None, "--num", help="Stop after N scenes."),
    detections: Optional[Path] = typer.Option(None, "--detections",
                                              help="JSON of detector boxes per scene id that names generic boxes (CA-1M)."),
    exclude_benchmark: Optional[str] = typer.Option(
        None, "--exclude-benchmark", help="Leave out the scenes of these benchmarks: NAME[=PATH],... "
        "(e.g. vsibench=/data/VSI-Bench/test.jsonl); listed in the manifest."),
) -> None:
    """Ingest a 3D-annotated dataset into scenes (exact boxes, poses, depth); resumable."""
    from .checks import out_folder
    from .sources.annotated import READERS
    from .sources.annotated import ingest as run_ingest
    from .sources.annotated.core import check_subsample

    if dataset not in READERS:
        raise ConfigError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(READERS))}")
    check_subsample(every, num)
    if not input.exists():
        raise ConfigError(f"{dataset} input {input} not found")
    out_folder(out)
    m = run_ingest(dataset, input, out, every=every, num=num, detections=detections,
                   exclude=_exclusion(exclude_benchmark))
    console.print(f"ingest {dataset}: {len(m.done)} scenes in {out}, {len(m.skipped)} skipped "
                  f"(reasons in {out / 'manifest.json'})")


@app.command("mirror")
def mirror_cmd(
    input: Path = typer.Argument(..., help="Dataset to mirror: LLaVA JSON, messages JSONL/Parquet, JSONL, Parquet, an HF folder or SpatialRGPT OSD JSON."),
    out: Path = typer.Option(..., "--out", help="Output folder: data/shard-*.parquet and manifest.json."),
    format: str = typer.Option("auto", "--format", help="auto, llava, messages, parquet, jsonl, hf or osd."),
    mode: str = typer.Option("rules", "--mode", help="rules, llm or rules+llm (see docs/mirroring.md)."),
    coords2d: Optional[str] = typer.Option(None, "--coords2d", help="2D points/boxes in the text: pixel, unit or thousand."),
    points3d: str = typer.Option("stated", "--points3d", help="3-number tuples: stated (camera frame named) or camera."),
    box_format: str = typer.Option("xyxy", "--box-format", help="4-number boxes in the text: xyxy (corners) or xywh (corner + size)."),
    image_root: Optional[Path] = typer.Option(None, "--image-root", help="Folder relative image paths are resolved against (default: the input's folder)."),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url", help="OpenAI-compatible endpoint of the LLM."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="LLM model name."),
    verify: bool = typer.Option(False, "--verify", help="A second LLM call checks each LLM rewrite."),
) -> None:
    """Mirror an existing spatial QA dataset (flipped images, rewritten QA); rejected records listed."""
    from .checks import out_folder
    from .mirror.rules import check_options
    from .mirror.run import run_mirror

    if not input.exists():
        raise ConfigError(f"mirror input {input} not found")
    check_options(coords2d, points3d, box_format)
    llm = None
    if mode != "rules" and llm_model:
        from .llm_client import ChatClient
        from .mirror.llm import LLMMirror

        llm = LLMMirror(ChatClient(llm_base_url), llm_model, verify=verify)
    out_folder(out)
    m = run_mirror(input, out, fmt=format, mode=mode, llm=llm, coords2d=coords2d, points3d=points3d,
                   box_format=box_format, image_root=image_root)
    console.print(f"mirror: {len(m.done)} records mirrored into {out / 'data'}, {len(m.skipped)} rejected or "
                  f"unreadable (reasons in {out / 'manifest.json'}); {m.stats}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
