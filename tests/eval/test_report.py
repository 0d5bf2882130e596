"""Reports: CoT keyword statistics, number formatting, Markdown/HTML/JSON files with plots."""

from __future__ import annotations

import base64
import json

import pytest

from spatialforge.eval.report import cot_keyword_stats, fmt, markdown_report, numeric_plots, write_reports


def test_cot_keyword_stats_hand_counted():
    stats = cot_keyword_stats([
        "First, the chair is likely 2 m away because the door is 1 m wide. So, about 2 m.",  # first, likely, because, so
        "2 m",
        "I’m not sure; it is probably 3 m.",  # I'm not sure (curly apostrophe), probably
    ])
    assert stats["n_responses"] == 3
    assert stats["mean_per_response"] == pytest.approx(6 / 3)
    assert stats["share_with_any"] == pytest.approx(2 / 3)
    assert stats["counts"] == {"I’m not sure": 1, "because": 1, "first": 1, "likely": 1, "probably": 1, "so": 1}
    assert cot_keyword_stats([])["mean_per_response"] is None


def test_fmt_conventions():
    assert fmt("accuracy", 0.625) == "62.50" and fmt("smape", 44.9) == "44.90 %"
    # units belong to the metric: angles and clock errors are not fractions (never x100)
    assert fmt("vector3d_mean_angle_deg", 12.5) == "12.50°" and fmt("mean_hours_off", 1.5) == "1.50 h"
    assert fmt("n", 3) == "3" and fmt("accuracy", None) == "–" and fmt("x", float("nan")) == "nan"


def _results():
    rows = [{"id": f"s{i}", "task": "distance", "level": 2, "question": "How far <is> it?", "gt": "2 m",
             "prediction": "<think>because</think><answer>3 m</answer>", "gt_value": 2.0, "pred_value": 1.0 + i,
             "correct": i < 2} for i in range(4)]
    rows.append({"id": "s9", "task": "other", "level": None, "question": "q", "gt": "a", "prediction": "",
                 "missing": True, "correct": None, "status": "not_judged"})
    agg = {"benchmark": "toy", "n": 5, "n_missing": 1, "metric": "success_rate", "overall": 0.4,
           "metrics": {"success_rate": 0.4, "smape": 33.3, "n_groups": 2, "by_source": {"A": {"n": 2, "accuracy": 0.5}}},
           "by_task": {"distance": {"n": 4, "accuracy": 0.5}}, "by_level": {"L2": {"n": 4, "accuracy": 0.5}}}
    return {"toy": {"aggregate": agg, "per_sample": rows}}


def test_numeric_plots_are_png():
    plots = numeric_plots(_results()["toy"]["per_sample"], "toy")
    assert set(plots) == {"error_histogram", "scatter_loglog"}
    for b64 in plots.values():
        assert base64.b64decode(b64)[:4] == b"\x89PNG"
    assert numeric_plots([{"gt_value": 1.0, "pred_value": None}], "x") == {}


def test_write_reports(tmp_path):
    paths = write_reports(_results(), tmp_path / "r", {"model": "tiny", "prompt_style": "plain"})
    summary = json.loads(paths["json"].read_text())
    assert summary["meta"]["model"] == "tiny"
    assert summary["benchmarks"]["toy"]["aggregate"]["overall"] == 0.4
    assert summary["benchmarks"]["toy"]["cot"]["n_responses"] == 4  # the missing one is not a response
    md = paths["markdown"].read_text()
    assert "| toy | success_rate | 40.00 | ours | 40.00 | no official scorer | – | 5 |" in md
    assert "| smape | 33.30 % |" in md and "### per task" in md and "### per source" in md
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "How far &lt;is&gt; it?" in html and "<is>" not in html  # escaped
    assert "not judged" in html and "sample predictions (5 of 5)" in html


def test_markdown_handles_empty_metrics():
    md = markdown_report({"e": {"aggregate": {"metric": "accuracy", "overall": None, "n": 0, "metrics": {}}}}, {})
    assert "| e | accuracy | – | ours | – | no official scorer | – | 0 |" in md


def test_reports_show_ours_and_official_side_by_side(tmp_path):
    from spatialforge.eval.benchmarks.common import with_rules

    res = _results()
    agg = res["toy"]["aggregate"]
    agg["official"] = {"metric": "success_rate", "overall": 0.25, "metrics": {"success_rate": 0.25},
                       "source": "toy notebook"}
    with_rules(agg, "official")
    assert agg["metric"] == "official_success_rate" and agg["overall"] == 0.25
    assert agg["ours"]["overall"] == 0.4 and agg["official_minus_ours"] == pytest.approx(-0.15)
    paths = write_reports(res, tmp_path, {"model": "m"})
    md = paths["markdown"].read_text()
    assert "| toy | official_success_rate | 25.00 | official | 40.00 | 25.00 | -15.00 | 5 |" in md
    assert "official rules (toy notebook)" in md
    html_text = paths["html"].read_text()
    assert "<td>40.00</td><td>25.00</td><td>-15.00</td>" in html_text
    saved = json.loads(paths["json"].read_text())["benchmarks"]["toy"]["aggregate"]
    assert saved["ours"]["overall"] == 0.4 and saved["official"]["overall"] == 0.25


# ---------------------------------------------------------------- per-type tables, plots, thumbnails, long text
def _vsi_results(tmp_path):
    from spatialforge.eval.benchmarks import get_benchmark
    from spatialforge.eval.benchmarks.common import with_rules
    from tests.eval.benchfix_multiview import write_mmsi, write_vsibench

    out = {}
    for name, src, preds in [("vsibench", write_vsibench(tmp_path), ["4", "2.5", "A", "C", "B", "1 m"]),
                             ("mmsi_bench", write_mmsi(tmp_path), ["B " + "very long reasoning " * 40, "A", "D"])]:
        bench = get_benchmark(name)
        samples = bench.load(src)
        rows = [bench.score(s, p) for s, p in zip(samples, preds)]
        out[name] = {"aggregate": with_rules(bench.aggregate(rows)), "per_sample": rows, "samples": samples}
    return out


def test_per_type_tables_plots_and_thumbnails(tmp_path):
    paths = write_reports(_vsi_results(tmp_path), tmp_path / "r", {"model": "m"})
    md = paths["markdown"].read_text()
    assert "### per question type" in md
    assert "| object_abs_distance | 1 | mra | 50.00 |" in md and "| object_rel_direction | 2 | accuracy | 100.00 |" in md
    # one plot per benchmark, saved as a PNG file and embedded
    for name in ("vsibench", "mmsi_bench"):
        png = paths[f"plot:{name}:scores_by_type"]
        assert png == tmp_path / "r" / "plots" / f"{name}_scores_by_type.png" and png.read_bytes()[:4] == b"\x89PNG"
    html_text = paths["html"].read_text()
    assert "per question type" in html_text
    assert html_text.count("class='thumb'") == 2 + 3 + 2  # MMSI: every image of every shown sample
    assert "video scene0000_00.mp4" in html_text  # VSI-Bench: the video, not a thumbnail
    # the long prediction is folded: its start is shown, the full text is one click away
    assert html_text.count("<details>") == 1 and ("very long reasoning " * 40).strip() in html_text
    assert "overflow-wrap:anywhere" in html_text


def test_fold_keeps_short_text_and_escapes():
    from spatialforge.eval.report_media import fold

    assert fold("a <b>") == "<pre>a &lt;b&gt;</pre>"
    long = "x" * 301
    folded = fold(long)
    assert folded.startswith("<details><summary><pre>" + "x" * 300 + " …</pre></summary>") and long in folded
