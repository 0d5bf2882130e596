"""The dataset manifest with its journal: a finished run's manifest.json is what the code that
rewrote it per shard wrote, a kill -9 anywhere resumes to the same manifest and shards, and the
running totals equal a re-sum of every shard."""

import json
import random
import shutil
from collections import Counter
from pathlib import Path

from spatialforge.datasets import generate_dataset, shard_paths
from spatialforge.datasets.pipeline import COUNT_KEYS, _recount
from spatialforge.manifest import RunManifest, journal_path

GOLDEN = Path(__file__).with_name("golden_manifest.json")  # written by the rewrite-per-shard code (9396805)


class Crash(BaseException):
    """Ends the run where the test took its snapshot (not an error a batch job catches)."""


def _run(out, folder, gen):
    return generate_dataset(out, source="folder", scenes_dir=folder, qa_per_scene=4, mirror=True, shard_size=10,
                            generator=gen, seed=3)


def _normalised(out: Path, root: Path) -> dict:
    d = json.loads((out / "manifest.json").read_text())
    d.pop("versions")
    d["stats"].pop("versions")
    return json.loads(json.dumps(d).replace(str(root), "ROOT"))


def test_a_finished_manifest_is_what_the_old_code_wrote(tmp_path, scene_folder, scene_writer, stub):
    for i in range(3, 7):
        scene_writer(scene_folder, i)
    _run(tmp_path / "ds", scene_folder, stub)
    assert _normalised(tmp_path / "ds", tmp_path) == json.loads(GOLDEN.read_text())
    assert not journal_path(tmp_path / "ds" / "manifest.json").exists()


def test_kill_9_mid_run_resumes_to_the_same_manifest_and_shards(tmp_path, scene_folder, scene_writer, stub):
    for i in range(3, 7):
        scene_writer(scene_folder, i)
    clean = tmp_path / "clean"
    _run(clean, scene_folder, stub)
    for kill_at in (3, 5, 7):
        out, disk = tmp_path / f"ds{kill_at}", tmp_path / f"disk{kill_at}"
        calls = []

        def killed(scene, **kw):
            calls.append(scene.id)
            if len(calls) == kill_at:  # what a kill -9 now leaves: the files as they are
                shutil.copytree(out, disk)
                raise Crash()
            return stub(scene, **kw)

        try:
            _run(out, scene_folder, killed)
        except Crash:
            pass
        journal = journal_path(disk / "manifest.json")
        assert journal.read_bytes().count(b"\n") > 1  # the kill came after some journaled shards
        with journal.open("ab") as f:
            f.write(b'[["done","scene_006"],["append",["shards"],{"file":')  # and tore a line
        done = RunManifest.open(disk / "manifest.json", "generate").done
        assert len(done) == kill_at - 2  # the scenes of every journaled shard
        redone = []
        _run(disk, scene_folder, lambda scene, **kw: redone.append(scene.id) or stub(scene, **kw))
        assert len(redone) == 7 - len(done)
        assert _normalised(disk, disk.parent) == _normalised(clean, clean.parent)
        assert [p.read_bytes() for p in shard_paths(disk)] == [p.read_bytes() for p in shard_paths(clean)]


def _old_recount(stats: dict, llm_param: bool) -> dict:
    """The re-sum of every shard that ran per shard before the running totals."""
    shards = stats["shards"]
    totals = {k: Counter() for k in COUNT_KEYS}
    llm = Counter()
    for s in shards:
        for k in COUNT_KEYS:
            totals[k].update(s["counts"].get(k, {}))
        llm.update(s.get("llm", {}))
    out = {"counts": {k: dict(sorted(v.items())) for k, v in totals.items()},
           "num_records": sum(s["records"] for s in shards), "num_scenes": sum(len(s["scenes"]) for s in shards),
           "num_shards": len(shards)}
    if llm or llm_param:
        out["llm_writer"] = {"rewritten": llm.get("rewritten", 0), "failed": llm.get("failed", 0)}
    return out


def test_running_totals_equal_a_resum_of_every_shard(tmp_path):
    rng = random.Random(5)
    for llm_param in (False, True):
        m = RunManifest.open(tmp_path / f"m{llm_param}.json", "generate",
                             {"llm_writer": {}} if llm_param else {})
        m.stats["shards"] = []
        for i in range(60):
            values = {k: {f"{k}-{rng.randrange(4)}": rng.randrange(1, 9) for _ in range(rng.randrange(3))}
                      for k in COUNT_KEYS if rng.random() < 0.8}
            entry = {"file": f"s{i}", "records": rng.randrange(20), "scenes": ["x"] * rng.randrange(1, 4),
                     "files": [], "counts": values}
            if i > 30 and rng.random() < 0.5:
                entry["llm"] = {"rewritten": rng.randrange(3), "failed": rng.randrange(2), "other": 1}
            m.append_stat("shards", entry)
            _recount(m, [entry])
            got = {k: v for k, v in m.stats.items() if k not in ("shards", "versions")}
            assert got == _old_recount(m.stats, llm_param)
            if i % 20 == 7:  # a resumed run continues from the stored totals
                m.flush()
                m = RunManifest.open(m.path, "generate")
