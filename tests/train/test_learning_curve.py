"""benchmarks/learning_curve.py: a run shorter than one SFT logging interval, the figures it
writes, and its confidence intervals by hand."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_curve.py"


@pytest.fixture(scope="module")
def lc():
    spec = importlib.util.spec_from_file_location("learning_curve", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_t_interval_by_hand(lc):
    mean, half = lc.t_interval([1.0, 2.0, 3.0])
    # t(0.975, df=2) = 4.3027; std 1; half-width 4.3027 / sqrt(3)
    assert mean == 2.0 and half == pytest.approx(4.3027 / math.sqrt(3), abs=1e-3)
    assert math.isnan(lc.t_interval([0.5])[1]) and lc.t_interval([0.5])[0] == 0.5


def test_paired_differences_from_none(lc):
    runs = {s: {"none": {"eval": {"accuracy": a, "mirror_consistency": c, "both_correct": c}},
                "agreement": {"eval": {"accuracy": a + d, "mirror_consistency": c, "both_correct": c}}}
            for s, (a, c, d) in enumerate([(0.5, 0.4, 0.1), (0.6, 0.5, 0.2), (0.7, 0.6, 0.3)])}
    text = lc.summarize(runs)
    diff_line = text.splitlines()[-1]
    assert diff_line.startswith("agreement") and f"0.200 ± {4.3027 * 0.1 / math.sqrt(3):.3f}" in diff_line


def test_mirrored_rows_are_exact_flips_with_flipped_answers(lc):
    import numpy as np

    rows = lc.squares_rows(3, seed=0, kinds=("side", "yesno", "choice"))
    for o, m in zip(rows[::2], rows[1::2]):
        assert o["pair_id"] == m["pair_id"] and (o["view"], m["view"]) == ("original", "mirrored")
        assert np.array_equal(np.asarray(o["image"])[:, ::-1], np.asarray(m["image"]))
        assert o["answer"] != m["answer"] and json.loads(o["answer_struct"])["kind"] in ("label", "boolean", "choice")


def test_a_run_shorter_than_one_logging_interval(lc, tmp_path):
    out = tmp_path / "lc.json"
    lc.main(["--model", "tiny", "--seeds", "0", "--sft-steps", "3", "--grpo-steps", "1", "--train-pairs", "4",
             "--eval-pairs", "2", "--modes", "none,agreement", "--max-new-tokens", "6", "--out", str(out)])
    runs = json.loads(out.read_text())["runs"]["0"]
    assert set(runs) == {"sft", "none", "agreement"}
    for r in runs.values():
        assert 0.0 <= r["eval"]["accuracy"] <= 1.0 and r["eval"]["mirror_consistency"] is not None
