"""evaluate(): runner -> cache -> scores -> reports, resuming; score_predictions(); the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.eval.benchmarks import BenchmarkError
from spatialforge.eval.benchmarks.qspatial import SYSTEM_PROMPT
from spatialforge.eval.evaluate import evaluate, read_predictions, score_predictions
from tests.eval.benchfix import write_cvbench, write_qspatial, write_synthetic
from tests.fixtures_models import tiny_qwen_path  # noqa: F401

CV_ANSWERS = {"0": "C", "1": "B", "2": "B", "3": "A", "4": "A"}  # official accuracy 0.625


class FakeRunner:
    """Answers CV-Bench from a table and every other question with a length; records its inputs."""

    name = "fake-vlm"

    def __init__(self, kill_on_call: int | None = None):
        self.system_prompt = None
        self.seen: list[str] = []
        self.systems: list[str | None] = []
        self.calls = 0
        self.kill_on_call = kill_on_call

    def generate(self, requests, *, max_new_tokens, temperature=0.0):
        self.calls += 1
        if self.calls == self.kill_on_call:
            raise KeyboardInterrupt  # the run is killed mid-way
        self.seen += [r.id for r in requests]
        self.systems += [self.system_prompt] * len(requests)
        assert all(r.images and r.images[0].mode == "RGB" for r in requests)
        return [CV_ANSWERS.get(r.id, r"\scalar{1} \distance_unit{m}") for r in requests]


@pytest.fixture
def sources(tmp_path):
    return {"cvbench": str(write_cvbench(tmp_path)), "qspatial_plus": str(write_qspatial(tmp_path))}


def test_evaluate_scores_writes_reports_and_resumes(tmp_path, sources):
    out = tmp_path / "out"
    runner = FakeRunner()
    res = evaluate("fake-vlm", ["cvbench", "qspatial_plus"], runner=runner, sources=sources, out=out, batch_size=2)
    assert res["benchmarks"]["cvbench"]["overall"] == 0.625
    assert res["benchmarks"]["qspatial_plus"]["overall"] == 0.75  # 1 m is within 2x of all but 2 m (ratio 2)
    assert sorted(runner.seen) == sorted([*CV_ANSWERS, *(f"qspatial_plus-{i:04d}" for i in range(4))])
    # the Q-Spatial official system prompt reached the runner for its questions only, then was restored
    assert runner.systems.count(SYSTEM_PROMPT) == 4 and runner.system_prompt is None
    for name in ("results.json", "results.md", "report.html", "per_sample/cvbench.jsonl", "per_sample/qspatial_plus.jsonl"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    assert summary["meta"]["model"] == "fake-vlm" and summary["meta"]["prompt_style"] == "plain"
    assert summary["benchmarks"]["cvbench"]["aggregate"]["metrics"]["accuracy_2d"] == 0.75
    rows = [json.loads(line) for line in (out / "per_sample/cvbench.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [True, False, True, True, False]
    # a second run generates nothing: every prediction is cached
    again = FakeRunner()
    res2 = evaluate("fake-vlm", "cvbench,qspatial_plus", runner=again, sources=sources, out=out, batch_size=2)
    assert again.calls == 0 and res2["benchmarks"] == res["benchmarks"]


def test_interrupted_run_resumes_with_the_missing_ids(tmp_path, sources):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        evaluate("fake-vlm", ["cvbench"], runner=FakeRunner(kill_on_call=2), sources={"cvbench": sources["cvbench"]},
                 out=out, batch_size=2)
    resumed = FakeRunner()
    res = evaluate("fake-vlm", ["cvbench"], runner=resumed, sources={"cvbench": sources["cvbench"]}, out=out, batch_size=2)
    assert resumed.seen == ["2", "3", "4"] and res["benchmarks"]["cvbench"]["overall"] == 0.625


def test_evaluate_rejects_bad_arguments(tmp_path, sources):
    with pytest.raises(BenchmarkError, match="valid names: cvbench"):
        evaluate("m", ["nope"], runner=FakeRunner(), out=tmp_path)
    with pytest.raises(BenchmarkError, match="prompt style"):
        evaluate("m", ["cvbench"], runner=FakeRunner(), prompt_style="cot", out=tmp_path)
    with pytest.raises(BenchmarkError, match="not being evaluated: qspatial_plus"):
        evaluate("m", ["cvbench"], runner=FakeRunner(), sources=sources, out=tmp_path)


def _write_preds(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_predictions_counts_missing_and_unknown_ids(tmp_path, sources):
    preds = _write_preds(tmp_path / "p.jsonl", [
        json.dumps({"id": "0", "prediction": "C"}),
        json.dumps({"id": 1, "output": "(A)"}),  # our cache format, numeric id
        "",
        json.dumps({"id": "3", "response": "A"}),
        json.dumps({"id": "99", "prediction": "A"}),
    ])
    res = score_predictions(preds, "cvbench", sources["cvbench"], out=tmp_path / "rep")
    agg = res["aggregate"]
    assert agg["n_missing"] == 2 and agg["n_unknown_ids"] == 1 and agg["unknown_ids"] == ["99"]
    assert [r["correct"] for r in res["per_sample"]] == [True, True, False, True, False]
    assert agg["overall"] == pytest.approx(((1.0 + 0.0) / 2 + 0.5) / 2)  # ADE 2/2, COCO 0/1, Omni3D 1/2
    assert (tmp_path / "rep" / "report.html").is_file()


@pytest.mark.parametrize("line,error", [
    ('{"id": "0", "prediction": "C"', "p.jsonl:2: not valid JSON"),
    ('["0", "C"]', "p.jsonl:2: expected an object with an 'id' field"),
    ('{"id": "0", "answer_text": "C"}', "p.jsonl:2: no prediction field"),
    ('{"id": "0", "prediction": 3}', "p.jsonl:2: field 'prediction' must be a string"),
])
def test_malformed_prediction_lines_name_the_line(tmp_path, line, error):
    path = _write_preds(tmp_path / "p.jsonl", [json.dumps({"id": "1", "prediction": "A"}), line])
    with pytest.raises(BenchmarkError, match=error):
        read_predictions(path)


def test_empty_predictions_are_counted_not_crashing(tmp_path, sources):
    preds = _write_preds(tmp_path / "p.jsonl", [json.dumps({"id": str(i), "prediction": ""}) for i in range(5)])
    agg = score_predictions(preds, "cvbench", sources["cvbench"])["aggregate"]
    assert agg["overall"] == 0.0 and agg["metrics"]["parse_rate"] == 0.0 and agg["n_missing"] == 0


# ---------------------------------------------------------------- CLI
cli = CliRunner()


def test_cli_list_and_unknown_benchmark(tmp_path):
    res = cli.invoke(app, ["eval", "--list"])
    assert res.exit_code == 0 and "qspatial_plus" in res.output and "nyu-visionx/CV-Bench" in res.output
    for name, hub in [("vsibench", "nyu-visionx/VSI-Bench"), ("mmsi_bench", "RunsenXu/MMSI-Bench"),
                      ("omnispatial", "pangyyyyy/OmniSpatial"), ("viewspatial", "lidingm/ViewSpatial-Bench"),
                      ("site", "franky-veteran/SITE-Bench"), ("site_video", "franky-veteran/SITE-Bench"),
                      ("sparbench", "jasonzhango/SPAR-Bench")]:
        assert any(line.split()[:1] == [name] and hub in line for line in res.output.splitlines()), name
    res = cli.invoke(app, ["eval", "--model", "x", "--benchmarks", "qspatial", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "qspatial_plus" in res.output  # the error lists the valid names
    res = cli.invoke(app, ["eval", "--model", "x", "--benchmarks", "cvbench", "--source", "cvbench"])
    assert res.exit_code == 2 and "NAME=PATH" in res.output


def test_cli_score(tmp_path, sources):
    preds = _write_preds(tmp_path / "p.jsonl", [json.dumps({"id": k, "prediction": v}) for k, v in CV_ANSWERS.items()])
    res = cli.invoke(app, ["score", str(preds), "--benchmark", "cvbench", "--source", sources["cvbench"]])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["overall"] == 0.625
    bad = _write_preds(tmp_path / "bad.jsonl", ["{oops"])
    res = cli.invoke(app, ["score", str(bad), "--benchmark", "cvbench", "--source", sources["cvbench"]])
    assert res.exit_code == 2 and "bad.jsonl:1" in res.output


def test_cli_eval_end_to_end_on_tiny_qwen(tmp_path, tiny_qwen_path):
    synth, qsp = write_synthetic(tmp_path), write_qspatial(tmp_path)
    out = tmp_path / "eval"
    res = cli.invoke(app, [
        "eval", "--model", str(tiny_qwen_path), "--benchmarks", "synthetic,qspatial_plus", "--limit", "4",
        "--source", f"synthetic={synth}", "--source", f"qspatial_plus={qsp}", "--out", str(out),
        "--max-new-tokens", "8", "--batch-size", "2",
    ])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "results.json").read_text())
    for name in ("synthetic", "qspatial_plus"):
        agg = summary["benchmarks"][name]["aggregate"]
        assert agg["n"] == 4
        assert 0.0 <= agg["overall"] <= 1.0  # garbage answers, but real numbers in range
        assert summary["benchmarks"][name]["cot"]["n_responses"] == 4
    assert "## synthetic" in (out / "results.md").read_text()
    html = (out / "report.html").read_text()
    assert "<h2 id='qspatial_plus'>" in html and "sample predictions" in html
    preds = list((out / "predictions").rglob("*.jsonl"))
    assert len(preds) == 2 and all(len(p.read_text().splitlines()) == 4 for p in preds)


def test_evaluate_official_rules_headline_and_both_numbers(tmp_path, sources):
    res = evaluate("fake-vlm", ["cvbench", "qspatial_plus"], runner=FakeRunner(), sources=sources,
                   out=tmp_path / "out", batch_size=2, rules="official")
    q = res["benchmarks"]["qspatial_plus"]
    # \scalar{1} \distance_unit{m} everywhere: the notebook agrees with ours on every sample here
    assert q["metric"] == "official_success_rate" and q["overall"] == 0.75 and q["ours"]["overall"] == 0.75
    assert res["meta"]["rules"] == "official" and res["meta"]["coord_scale"] == {"cvbench": "auto", "qspatial_plus": "auto"}
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| qspatial_plus | official_success_rate | 75.00 | official | 75.00 | 75.00 | +0.00 | 4 |" in md


def test_cli_score_rules_official(tmp_path, sources):
    preds = _write_preds(tmp_path / "p.jsonl", [json.dumps({"id": k, "prediction": "The answer is " + v})
                                                for k, v in CV_ANSWERS.items()])
    res = cli.invoke(app, ["score", str(preds), "--benchmark", "cvbench", "--source", sources["cvbench"],
                           "--rules", "official"])
    assert res.exit_code == 0, res.output
    agg = json.loads(res.output)
    assert agg["metric"] == "official_cvbench_accuracy" and agg["overall"] == 0.0  # lmms-eval reads "T"
    assert agg["ours"]["metric"] == "cvbench_accuracy" and agg["ours"]["overall"] > 0
    res = cli.invoke(app, ["score", str(preds), "--benchmark", "cvbench", "--source", sources["cvbench"],
                           "--rules", "paper"])
    assert res.exit_code == 2 and "rules must be one of" in res.output
