"""Bad input at the command line: one ``error: ...`` line naming the option or file, a non-zero
exit, no traceback; programming errors keep theirs. Every case runs the real CLI in-process
(typer's CliRunner); one runs it as a subprocess to check the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from tests.eval.benchfix import write_cvbench
from tests.fixtures_http import fake_openai  # noqa: F401

BIG = str(2**64)  # past int64: numpy seeding and Parquet columns overflow
runner = CliRunner()


def fails(args: list[str], *needles: str, code: int | None = None) -> str:
    """Run the CLI; assert it failed with exactly one error line (the last) holding ``needles``."""
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), f"raised {res.exception!r}"
    assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    if code is not None:
        assert res.exit_code == code, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], res.output
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


@pytest.fixture
def afile(tmp_path) -> Path:
    p = tmp_path / "afile"
    p.write_text("x")
    return p


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A folder that passes the dataset checks (one readable Parquet shard)."""
    root = tmp_path / "ds"
    (root / "data").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a"]}), root / "data" / "shard-00000.parquet")
    return root


# --- output folders --------------------------------------------------------------------------


def test_out_that_is_a_file_or_under_a_file(afile, tmp_path):
    fails(["scenes", "--num", "1", "--out", afile], "--out", str(afile), "is a file", code=2)
    fails(["scenes", "--num", "1", "--out", afile / "sub"], "--out", f"is under {afile}")
    fails(["generate", "--source", "folder", "--scenes", tmp_path, "--out", afile], "--out", "is a file")
    (tmp_path / "scene_000.json").write_text("{}")
    fails(["geometry", tmp_path, "--out", afile], "--out", "is a file")
    assert afile.read_text() == "x"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (unwritable even for root)")
def test_out_that_cannot_be_written():
    fails(["scenes", "--num", "1", "--out", "/proc/spatialforge-test"], "--out /proc/spatialforge-test",
          "cannot write there")


def test_out_on_a_read_only_file_system(tmp_path, dataset):
    """As root, permissions never refuse a write; a read-only mount does (skipped where mounting is not allowed)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        fails(["scenes", "--num", "1", "--out", ro / "x"], f"--out {ro / 'x'}", "cannot write there",
              "Read-only", code=2)
        fails(["show", dataset, "--out", ro / "page.html"], f"--out {ro / 'page.html'}", f"cannot write {ro}")
    finally:
        subprocess.run(["umount", str(ro)], check=True)


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args, option", [
    (["scenes", "--seed", "-1"], "--seed"),
    (["scenes", "--seed", BIG], "--seed"),
    (["scenes", "--num", BIG], "--num"),
    (["generate", "--seed", "-1"], "--seed"),
    (["generate", "--seed", BIG], "--seed"),
    (["generate", "--num-scenes", BIG], "--num-scenes"),
    (["generate", "--shard-size", BIG], "--shard-size"),
    (["show", ".", "--seed", BIG], "--seed"),
])
def test_numbers_out_of_range(tmp_path, args, option):
    fails([*args, "--out", tmp_path / "o"] if args[0] != "show" else args, f"'{option}'", code=2)
    assert not (tmp_path / "o").exists()  # rejected before anything is written


def test_largest_seed_is_accepted(tmp_path, afile):
    # 2**63 - 1 passes the range check (the run then stops on the file, not on the number)
    fails(["scenes", "--num", "1", "--seed", str(2**63 - 1), "--out", afile], "--out")


@pytest.mark.parametrize("size", ["8x8", "640x15", "9000x480", "big", "64x"])
def test_image_size(tmp_path, size):
    fails(["scenes", "--num", "1", "--size", size, "--out", tmp_path / "o"], "--size", code=2)
    fails(["generate", "--size", size, "--out", tmp_path / "o"], "--size")
    assert not (tmp_path / "o").exists()


def test_size_says_the_limits(tmp_path):
    fails(["scenes", "--size", "8x8", "--out", tmp_path / "o"], "8x8", "between 16 and 8192")


# --- input folders and files -----------------------------------------------------------------


def test_geometry_missing_or_empty_folder(tmp_path):
    fails(["geometry", tmp_path / "nope"], "scene folder", "no such folder", code=2)
    (tmp_path / "empty").mkdir()
    fails(["geometry", tmp_path / "empty"], "no scene JSON files")
    (tmp_path / "empty" / "manifest.json").write_text("{}")  # a manifest is not a scene
    fails(["geometry", tmp_path / "empty"], "no scene JSON files")
    (tmp_path / "empty" / "scene_000.json").write_text("{}")
    fails(["geometry", tmp_path / "empty", "--out", tmp_path / "empty"], "--out", "must differ")


def test_generate_missing_or_empty_scene_folder(tmp_path):
    fails(["generate", "--source", "folder", "--scenes", tmp_path / "nope", "--out", tmp_path / "o"],
          "--scenes", "no such folder")
    (tmp_path / "empty").mkdir()
    # an empty input must not report success
    fails(["generate", "--source", "folder", "--scenes", tmp_path / "empty", "--out", tmp_path / "o"],
          "no scene JSON files", code=1)


def test_show_bad_folders(tmp_path, dataset, afile):
    fails(["show", tmp_path / "nope"], "dataset folder", "no such folder", code=2)
    (tmp_path / "empty").mkdir()
    fails(["show", tmp_path / "empty"], "no data/shard-*.parquet")
    fails(["show", dataset, "--out", tmp_path], "--out", "is a folder", code=2)
    fails(["show", dataset, "--out", afile / "page.html"], f"--out {afile / 'page.html'}", f"is under {afile}")
    bad = dataset / "data" / "shard-00001.parquet"
    bad.write_bytes(b"not parquet at all")
    fails(["show", dataset], str(bad), "not a readable Parquet shard", code=1)


def test_score_bad_predictions(tmp_path):
    src = write_cvbench(tmp_path)
    preds = tmp_path / "p.jsonl"
    preds.write_bytes(b'{"id": "0", "prediction": "\xff\xfe"}\n')
    fails(["score", preds, "--benchmark", "cvbench", "--source", src], str(preds), "not UTF-8", "0xff")
    fails(["score", tmp_path / "none.jsonl", "--benchmark", "cvbench", "--source", src], "none.jsonl", "not found")
    fails(["score", tmp_path, "--benchmark", "cvbench", "--source", src], "is a folder")


def test_score_against_no_samples_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "test_2d.jsonl").write_text("")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "0", "prediction": "A"}) + "\n")
    fails(["score", preds, "--benchmark", "cvbench", "--source", tmp_path / "empty"], "cvbench", "no samples")


# --- eval: everything checked before a model loads --------------------------------------------


def test_eval_unknown_runner_lists_the_valid_ones(tmp_path):
    fails(["eval", "--model", "x/y", "--benchmarks", "cvbench", "--runner", "bogus", "--out", tmp_path / "o"],
          "'bogus'", "openai, transformers, vllm", code=2)
    assert not (tmp_path / "o").exists()


def test_eval_missing_model_path(tmp_path):
    src = write_cvbench(tmp_path)
    fails(["eval", "--model", tmp_path / "no-model", "--benchmarks", "cvbench", "--source", f"cvbench={src}",
           "--out", tmp_path / "o"], str(tmp_path / "no-model"), "no such local model folder", code=2)
    fails(["eval", "--model", "not a model!", "--benchmarks", "cvbench", "--source", f"cvbench={src}"],
          "'not a model!'", "neither a local model folder nor a Hugging Face hub id")
    assert not (tmp_path / "o").exists()


def test_eval_missing_source_before_model(tmp_path):
    fails(["eval", "--model", str(tmp_path), "--benchmarks", "cvbench", "--source", f"cvbench={tmp_path}/nope"],
          "cvbench=", "no such file or folder")


def test_eval_uncached_hub_id_offline_fails_fast(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub, "model_info", None)  # offline: not even one request is tried
    src = write_cvbench(tmp_path)
    t0 = time.monotonic()
    fails(["eval", "--model", "spatialforge-test/no-such-model", "--benchmarks", "cvbench",
           "--source", f"cvbench={src}"], "spatialforge-test/no-such-model", "not in the local Hugging Face cache",
          "HF_HUB_OFFLINE is set", "hf download")
    assert time.monotonic() - t0 < 5


def test_eval_uncached_hub_id_fails_in_seconds(tmp_path, monkeypatch):
    """No network (this machine) or a hub that answers 'not found': either way seconds, not a minute."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    src = write_cvbench(tmp_path)
    t0 = time.monotonic()
    fails(["eval", "--model", "spatialforge-test/no-such-model-4f2a", "--benchmarks", "cvbench",
           "--source", f"cvbench={src}"], "spatialforge-test/no-such-model-4f2a")
    assert time.monotonic() - t0 < 15


def test_eval_where_every_request_failed_exits_nonzero(tmp_path, fake_openai):  # noqa: F811
    fake_openai.fail_first, fake_openai.fail_status = 10_000, 400  # 400: not retried
    src = write_cvbench(tmp_path)
    line = fails(["eval", "--runner", "openai", "--model", "m", "--base-url", fake_openai.base_url,
                  "--benchmarks", "cvbench", "--source", f"cvbench={src}", "--out", tmp_path / "o"],
                 "every generation request failed for cvbench", "400", code=1)
    assert "per_sample/cvbench.jsonl" in line and (tmp_path / "o" / "report.html").is_file()  # reports still written


# --- train --------------------------------------------------------------------------------------


def _recipe(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "recipe.yaml"
    p.write_text(text)
    return p


GOOD_DATA = "data: {{train: {data}}}\ntraining: {{output_dir: {out}, use_cpu: true, report_to: none}}\n"


def test_train_malformed_yaml(tmp_path):
    p = _recipe(tmp_path, "kind: sft\nmodel: [unclosed\n")
    fails(["train", "sft", "--config", p], str(p), "not valid YAML", "line 3", code=2)
    fails(["train", "sft", "--config", tmp_path / "none.yaml"], "--config", "does not exist")
    p2 = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\n" + GOOD_DATA.format(
        data=tmp_path, out=tmp_path / "run"))
    fails(["train", "sft", "--config", p2, "-o", "training.max_steps=[1"], "training.max_steps=[1", "not a YAML")


def test_train_missing_model_and_data(tmp_path):
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: " + str(tmp_path / "no-model") + "}\n"
                + GOOD_DATA.format(data=tmp_path, out=tmp_path / "run"))
    fails(["train", "sft", "--config", p], "model.name_or_path", "no such local model folder", code=2)
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\n"
                + GOOD_DATA.format(data=tmp_path / "no-data", out=tmp_path / "run"))
    fails(["train", "sft", "--config", p], "data.train", "no-data", "no such file or folder")
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\n"
                + GOOD_DATA.format(data=f"'{tmp_path}/*.nothing'", out=tmp_path / "run"))
    fails(["train", "sft", "--config", p], "data.train", "no file matches")
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\ndata: {prompt: think}\n"
                "training: {output_dir: run}\n")
    fails(["train", "sft", "--config", p], "data.train is required")
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\n"
                + GOOD_DATA.format(data=tmp_path, out=tmp_path / "run").replace("train:", "prompt: nope, train:"))
    fails(["train", "sft", "--config", p], "data.prompt must be one of")  # a ValueError of the config classes
    assert not (tmp_path / "run").exists()


def test_train_error_after_start_keeps_its_traceback(tmp_path, monkeypatch):
    """Only configuration checked before training is a usage error; a ValueError from the run is a bug."""
    import spatialforge.train.recipes as recipes

    def run(recipe):
        raise ValueError("shapes do not match at step 1000")

    monkeypatch.setattr(recipes, "run_recipe", run)
    p = _recipe(tmp_path, "kind: sft\nmodel: {name_or_path: tiny:qwen2_5_vl}\n"
                + GOOD_DATA.format(data=tmp_path, out=tmp_path / "run"))
    res = runner.invoke(app, ["train", "sft", "--config", str(p)])
    assert isinstance(res.exception, ValueError) and "step 1000" in str(res.exception)
    assert res.exit_code == 1 and "error:" not in res.output and "Usage" not in res.output


# --- missing extras and the handler ------------------------------------------------------------


def test_missing_extra_names_the_pip_command(tmp_path, monkeypatch):
    from spatialforge import extras

    monkeypatch.setitem(extras.EXTRAS, "render", ("spatialforge_no_such_module",))
    fails(["scenes", "--num", "1", "--out", tmp_path / "o"], "pip install 'spatialforge[render]'",
          "spatialforge_no_such_module", code=1)
    assert not (tmp_path / "o").exists()
    with pytest.raises(ImportError, match=r"spatialforge\[render\]"):
        extras.require("render", "rendering")


def test_module_not_found_for_an_extra_is_one_line_else_a_bug(tmp_path, monkeypatch):
    import spatialforge.sources.synthetic as synthetic

    def missing_pyrender(*a, **k):
        raise ModuleNotFoundError("No module named 'pyrender'", name="pyrender")

    monkeypatch.setattr(synthetic, "write_scenes", missing_pyrender)
    fails(["scenes", "--num", "1", "--out", tmp_path / "o"], "pip install 'spatialforge[render]'")

    def missing_own_module(*a, **k):
        raise ModuleNotFoundError("No module named 'spatialforge.nothing'", name="spatialforge.nothing")

    monkeypatch.setattr(synthetic, "write_scenes", missing_own_module)
    res = runner.invoke(app, ["scenes", "--num", "1", "--out", str(tmp_path / "o")])
    assert isinstance(res.exception, ModuleNotFoundError) and "error:" not in res.output


def test_real_entry_point_prints_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    res = subprocess.run([sys.executable, "-m", "spatialforge", "scenes", "--seed", "-1", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: Invalid value for '--seed'"), res.stderr


def test_cached_hub_id_passes_without_the_hub(tmp_path, monkeypatch):
    import huggingface_hub
    import huggingface_hub.constants

    from spatialforge.checks import model_source

    repo = tmp_path / "hub" / "models--org--cached-model"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub, "model_info", None)
    assert model_source("org/cached-model") == "org/cached-model"
    assert model_source(str(tmp_path)) == str(tmp_path)  # a local folder


def test_eval_runs_the_offline_tiny_model_of_the_quick_tour(tmp_path, monkeypatch):
    """README quick tour: ``eval --model tiny:qwen2_5_vl`` builds the tiny model offline and scores it."""
    from spatialforge.datasets import generate_dataset

    monkeypatch.setenv("SPATIALFORGE_CACHE", str(tmp_path / "cache"))
    dataset = tmp_path / "data"
    generate_dataset(dataset, source="synthetic", num_scenes=1, size=(160, 120), qa_per_scene=2)
    res = runner.invoke(app, ["eval", "--model", "tiny:qwen2_5_vl", "--benchmarks", "synthetic", "--source",
                              f"synthetic={dataset}", "--limit", "2", "--max-new-tokens", "4", "--out", str(tmp_path / "e")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cache" / "tiny_models" / "qwen2_5_vl" / "config.json").is_file()
    assert "synthetic: accuracy" in res.output
    fails(["eval", "--model", "tiny:llama", "--benchmarks", "synthetic", "--source", f"synthetic={dataset}"],
          "unknown tiny model", code=2)
