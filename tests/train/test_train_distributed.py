"""A real two-process run (torch.distributed, gloo on CPU): a pair split across processes
is whole after TRL's gather, and the joint advantages each process trains on are the slice
of the advantages of the whole gathered batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from spatialforge.train.consistency import group_layout, mode_advantages
from tests.fixtures_models import tiny_qwen_path  # noqa: F401

SCRIPT = Path(__file__).with_name("dist_grpo_step.py")
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built")
def test_two_processes_keep_pairs_and_slice_joint_advantages(tmp_path, tiny_qwen_path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(_free_port()), str(SCRIPT), str(tmp_path), str(tiny_qwen_path), "joint"]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world"] for r in ranks] == [2, 2] and ranks[0]["generation_batch_size"] == 8
    for b0, b1 in zip(ranks[0]["batches"], ranks[1]["batches"]):
        # one pair per generation batch, its original on process 0 and its mirror on process 1
        assert b0["local_views"] == ["original"] * 4 and b1["local_views"] == ["mirrored"] * 4
        assert b0["local_pair_ids"] == b1["local_pair_ids"]
        assert b0["pairs"] == b1["pairs"] == [[0, 1]] and not b0["unpaired"]
        assert b0["rewards"] == b1["rewards"]  # both processes hold the gathered (raw) rewards
        semantic = torch.tensor(b0["rewards"]["semantic"])
        total = 0.5 * torch.tensor(b0["rewards"]["format"]) + 0.5 * semantic
        layout = group_layout(["p"] * 8, ["original"] * 4 + ["mirrored"] * 4, 4)
        expected = mode_advantages(total, semantic, layout, "joint").advantages
        got = torch.tensor(b0["local_advantages"] + b1["local_advantages"])
        assert torch.allclose(got, expected, atol=1e-4)
    assert "consistency/delta" in ranks[0]["logs"][0] and ranks[0]["logs"][0]["consistency/delta"] > 0.5
