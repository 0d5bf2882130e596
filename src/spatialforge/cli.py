"""The ``spatialforge`` command line: thin Typer wrappers over library functions.

Each command parses its options, calls one library function and prints a summary;
heavy imports happen inside the command so ``spatialforge --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="spatialforge: teach vision-language models 3D spatial reasoning, data to evaluation.")
console = Console(stderr=True)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w <= 0 or h <= 0:
            raise ValueError
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    return w, h


@app.command()
def scenes(
    out: Path = typer.Option(..., "--out", help="Folder for images/, depth/, masks/ and one JSON per scene."),
    num: int = typer.Option(10, "--num", min=1, help="Number of scenes."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same bytes."),
    size: str = typer.Option("640x480", "--size", help="Image size WIDTHxHEIGHT."),
) -> None:
    """Render procedural indoor scenes with exact ground truth (RGB, metric depth, masks)."""
    from .sources.synthetic import write_scenes

    paths = write_scenes(out, num=num, seed=seed, size=_size(size), progress=True)
    console.print(f"wrote {len(paths)} scenes to {out}")


@app.command()
def geometry(
    folder: Path = typer.Argument(..., help="Folder of scene JSON files with depth and masks."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where estimated scenes go (default: FOLDER/estimated)."),
    use_gravity: bool = typer.Option(False, "--use-camera-gravity/--estimate-gravity",
                                     help="Trust the scene's camera rotation or estimate gravity from the floor."),
) -> None:
    """Re-estimate every scene's 3D boxes from depth and masks alone."""
    from .geometry.estimate import estimate_folder

    manifest = estimate_folder(folder, out=out, use_camera_gravity=use_gravity, progress=True)
    console.print(f"estimated {len(manifest.done)} scenes, skipped {len(manifest.skipped)}; manifest: {manifest.path}")
    for item, reason in manifest.skipped.items():
        console.print(f"  skipped {item}: {reason}")


@app.command()
def perceive(
    images: Path = typer.Argument(..., help="Folder of image files (PNG, JPEG, TIFF, BMP, WebP)."),
    perception: Path = typer.Option(..., "--perception", help="Perception config (configs/perception/*.yaml)."),
    out: Path = typer.Option(..., "--out", help="Folder for the perceived scene JSONs, images/, depth/, masks/."),
) -> None:
    """Turn ordinary images into scene JSONs (metric depth, boxes, masks, 3D boxes); see docs/perception.md."""
    from .errors import SpatialforgeError
    from .sources.images import perceive_folder

    try:
        m = perceive_folder(images, perception, out)
    except SpatialforgeError as e:
        raise typer.BadParameter(str(e)) from None
    console.print(f"perceived {len(m.done)} images, skipped {len(m.skipped)}; manifest: {m.path}")
    for item, reason in m.skipped.items():
        console.print(f"  skipped {item}: {reason}")


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Dataset folder: manifest.json, scenes/, data/shard-*.parquet."),
    source: str = typer.Option("synthetic", "--source",
                               help="synthetic (render scenes), folder (--scenes DIR) or images (--images DIR --perception CFG)."),
    num_scenes: Optional[int] = typer.Option(None, "--num-scenes", min=1,
                                             help="Scenes to use (synthetic default 10; folder default all)."),
    scenes_dir: Optional[Path] = typer.Option(None, "--scenes", help="Folder of scene JSONs for --source folder."),
    images_dir: Optional[Path] = typer.Option(None, "--images", help="Folder of image files for --source images."),
    perception: Optional[Path] = typer.Option(None, "--perception", help="Perception config for --source images."),
    mirror: bool = typer.Option(False, "--mirror", help="Add the exact mirrored partner of every question."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same bytes."),
    qa_per_scene: int = typer.Option(20, "--qa-per-scene", min=1, help="Questions per scene (before mirroring)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task names (default: all)."),
    size: str = typer.Option("640x480", "--size", help="Synthetic image size WIDTHxHEIGHT."),
    shard_size: int = typer.Option(1000, "--shard-size", min=1, help="Records per Parquet shard (at most)."),
    export: Optional[str] = typer.Option(None, "--export", help="Also export: trl or llava."),
    think: bool = typer.Option(False, "--think", help="Exports: add the <think>/<answer> instruction."),
    use_ray: bool = typer.Option(False, "--ray", help="Run per-scene generation on Ray Data (needs ray)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over instead of resuming a run in --out."),
    llm_base_url: Optional[str] = typer.Option(
        None, "--llm-base-url", help="OpenAI-compatible endpoint of an LLM that rewrites problem-solving questions "
        "(off unless this or --llm-model is given)."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name for the LLM writer."),
    llm_key_env: str = typer.Option("OPENAI_API_KEY", "--llm-key-env",
                                    help="Environment variable holding the LLM writer's API key (never logged)."),
) -> None:
    """Generate a hierarchical spatial QA dataset (sharded Parquet), resuming a crashed run."""
    from .datasets import DatasetError, generate_dataset

    llm_writer = None
    if llm_base_url is not None or llm_model is not None:
        from .tasks.llm import LLMWriterConfig

        defaults = LLMWriterConfig()
        try:
            llm_writer = LLMWriterConfig(enabled=True, base_url=llm_base_url or defaults.base_url,
                                         model=llm_model or defaults.model, api_key_env=llm_key_env)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None

    run = generate_dataset
    if source == "images":  # perceive the images, then generate from those scenes (sources/images.py)
        from functools import partial

        from .errors import SpatialforgeError
        from .sources.images import generate_from_images

        if images_dir is None or perception is None:
            raise typer.BadParameter("--source images needs --images DIR and --perception CONFIG")

        def run(out, source, scenes_dir, **kw):  # noqa: F811 - the images path wraps generate_dataset
            try:
                return partial(generate_from_images, images_dir, perception)(out, **kw)
            except SpatialforgeError as e:
                raise typer.BadParameter(str(e)) from None
    try:
        m = run(
            out, source=source, num_scenes=num_scenes, scenes_dir=scenes_dir, seed=seed, qa_per_scene=qa_per_scene,
            tasks=None if tasks is None else [t.strip() for t in tasks.split(",") if t.strip()], mirror=mirror,
            size=_size(size), shard_size=shard_size, progress=True, use_ray=use_ray, export=export, think=think,
            overwrite=overwrite, llm_writer=llm_writer,
        )
    except DatasetError as e:
        raise typer.BadParameter(str(e)) from None
    console.print(f"{m.stats.get('num_records', 0)} records from {m.stats.get('num_scenes', 0)} scenes in "
                  f"{m.stats.get('num_shards', 0)} shards, {len(m.skipped)} skipped; manifest: {m.path}")
    if "llm_writer" in m.stats:
        w = m.stats["llm_writer"]
        console.print(f"LLM writer: {w['rewritten']} problem-solving records rewritten, {w['failed']} kept the "
                      "template (reasons in the manifest's skipped)")


@app.command()
def show(
    folder: Path = typer.Argument(..., help="Dataset folder written by `spatialforge generate`."),
    num: int = typer.Option(24, "--num", min=1, help="Records to show (each with its mirrored partner)."),
    out: Optional[Path] = typer.Option(None, "--out", help="HTML file (default: FOLDER/show.html)."),
    seed: int = typer.Option(0, "--seed", help="Which records are sampled."),
) -> None:
    """Write a self-contained HTML page of sample records with their boxes drawn."""
    from .viz.show import build_show_page

    console.print(f"wrote {build_show_page(folder, num=num, out=out, seed=seed)}")


def _sources(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise typer.BadParameter(f"--source takes NAME=PATH (e.g. cvbench=/data/CV-Bench), got {item!r}")
        out[name.strip()] = path.strip()
    return out


def _judge(url: Optional[str], model: Optional[str], out: Path):
    if (url is None) != (model is None):
        raise typer.BadParameter("--judge-url and --judge-model go together")
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
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N samples of each benchmark."),
    prompt: str = typer.Option("plain", "--prompt", help="Prompt style: plain (official), think or spatial."),
    out: Path = typer.Option(Path("eval_out"), "--out", help="Folder for predictions, per-sample scores and reports."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Requests per generation batch."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, help="Generation length limit."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Endpoint for --runner openai (default: $OPENAI_BASE_URL)."),
    judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint of the LLM judge."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model name."),
    list_: bool = typer.Option(False, "--list", help="List the benchmarks and exit."),
) -> None:
    """Evaluate a model on spatial benchmarks; resumes from cached predictions in --out."""
    from .eval.benchmarks import BenchmarkError, get_benchmark, list_benchmarks

    if list_:
        for name in list_benchmarks():
            b = get_benchmark(name)
            typer.echo(f"{name:22s} {b.hf_id or '(local source)':32s} {b.description}")
        return
    if not model or not benchmarks:
        raise typer.BadParameter("--model and --benchmarks are required (or --list)")
    from .eval.evaluate import evaluate

    kwargs = {"base_url": base_url} if runner == "openai" and base_url else {}
    try:
        res = evaluate(model, benchmarks, runner=runner, limit=limit, prompt_style=prompt, out=out, batch_size=batch_size,
                       judge=_judge(judge_url, judge_model, out), sources=_sources(source), max_new_tokens=max_new_tokens,
                       runner_kwargs=kwargs, progress=True)  # fmt: skip
    except BenchmarkError as e:
        raise typer.BadParameter(str(e)) from None
    from .eval.report import fmt

    for name, agg in res["benchmarks"].items():
        console.print(f"{name}: {agg['metric']} = {fmt(agg['metric'], agg['overall'])} (n={agg['n']})")
    console.print(f"reports: {res['paths']['html']}")


@app.command("score")
def score_cmd(
    predictions: Path = typer.Argument(..., help="JSONL with one {\"id\", \"prediction\"} object per line."),
    benchmark: str = typer.Option(..., "--benchmark", help="Benchmark name (see `spatialforge eval --list`)."),
    source: Optional[str] = typer.Option(None, "--source", help="Local copy or dataset id (default: the hub id)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write per-sample scores and reports here."),
    judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint of the LLM judge."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model name."),
) -> None:
    """Score predictions made elsewhere against a benchmark; prints the aggregate as JSON."""
    import json

    from .eval.benchmarks import BenchmarkError
    from .eval.evaluate import score_predictions

    try:
        res = score_predictions(predictions, benchmark, source, out=out,
                                judge=_judge(judge_url, judge_model, out or predictions.parent))
    except BenchmarkError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(json.dumps(res["aggregate"], indent=2, default=str))


train_app = typer.Typer(no_args_is_help=True, help="Train a VLM from a recipe YAML (SFT or Spatial-GRPO).")
app.add_typer(train_app, name="train")


def _train(kind: str, config: Path, override: list[str]) -> None:
    from .train.recipes import RecipeError, load_recipe, run_recipe

    try:
        recipe = load_recipe(config, override)
        if recipe.kind != kind:
            raise RecipeError(f"{config} is a {recipe.kind!r} recipe; run `spatialforge train {recipe.kind}`")
        trainer = run_recipe(recipe)
    except (RecipeError, ValueError) as e:
        raise typer.BadParameter(str(e)) from None
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


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
