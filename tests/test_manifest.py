"""RunManifest: an event costs one journal line, a kill at any point resumes without loss or
duplicates, and a finished run leaves manifest.json alone, in the format it always had."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from spatialforge.manifest import RunManifest, journal_path


def _record(m: RunManifest, i: int) -> None:
    """One record of a run: per-item stats, a shard-like list entry, then done (one flush)."""
    m.set_stat(("seconds", f"item-{i:05d}"), i / 1000)
    m.append_stat("shards", {"file": f"shard-{i:05d}", "scenes": [f"item-{i:05d}"]})
    m.set_stat("num_shards", i + 1)
    m.mark_done(f"item-{i:05d}")


def _state(m: RunManifest) -> dict:
    d = m.to_dict()
    d.pop("versions")
    return json.loads(json.dumps(d))


def _written_bytes() -> int:
    try:
        io = Path("/proc/self/io").read_text()
    except OSError:
        pytest.skip("no /proc/self/io to count the bytes written")
    return int(next(line.split()[1] for line in io.splitlines() if line.startswith("wchar:")))


def test_bytes_written_stay_within_a_constant_of_the_final_manifest(tmp_path):
    m = RunManifest.open(tmp_path / "manifest.json", "demo", {"n": 3000})
    before = _written_bytes()
    for i in range(3000):
        _record(m, i)
        if i % 7 == 0:
            m.skip(f"bad-{i}", "unreadable")
    m.close()
    written = _written_bytes() - before
    final = (tmp_path / "manifest.json").stat().st_size
    # about 4x here (journal, compactions, the final write); a rewrite per event wrote ~1500x
    assert written < 8 * final, (written, final)
    assert not journal_path(tmp_path / "manifest.json").exists()
    assert RunManifest.open(tmp_path / "manifest.json", "demo").done == [f"item-{i:05d}" for i in range(3000)]


def test_open_mid_run_sees_every_flushed_event_and_nothing_else(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo")
    for i in range(2000):  # past a few compactions
        m.skip(f"item-{i:05d}/q", "needs 3 objects", flush=False)  # flushed with the record
        _record(m, i)
        if i % 500 == 0:
            m.unmark_done(f"item-{i:05d}")
            m.pop_stat(("seconds", f"item-{i:05d}"))
            m.skip(f"item-{i:05d}", "output gone")
        if i in (3, 999, 1998):
            assert _state(RunManifest.open(path, "demo")) == _state(m)
    m.set_stat("unflushed", True)
    assert "unflushed" not in RunManifest.open(path, "demo").stats
    assert json.loads(path.read_text())["num_done"] < len(m.done)  # the journal holds the rest


def test_a_torn_last_journal_line_is_ignored_and_the_run_resumes(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo")
    for i in range(10):
        _record(m, i)
    expected = _state(m)
    _record(m, 10)  # the kill hits while this line is written: half of it is on disk
    journal = journal_path(path).read_bytes()
    last = journal[: -1].rfind(b"\n") + 1
    journal_path(path).write_bytes(journal[: last + (len(journal) - last) // 2])

    resumed = RunManifest.open(path, "demo")
    assert _state(resumed) == expected
    for i in range(10, 13):
        _record(resumed, i)
    again = RunManifest.open(path, "demo")  # new lines never merge with the torn one
    assert again.done == [f"item-{i:05d}" for i in range(13)]
    assert [s["file"] for s in again.stats["shards"]] == [f"shard-{i:05d}" for i in range(13)]


def test_a_garbage_journal_line_ends_the_replay_and_keeps_what_came_before(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo")
    for i in range(3):
        _record(m, i)
    with journal_path(path).open("ab") as f:
        f.write(b"\0" * 40 + b"\n" + b'[["done","item-00099"]]\n')  # what a power loss can leave
    assert RunManifest.open(path, "demo").done == [f"item-{i:05d}" for i in range(3)]


def test_a_kill_between_compaction_and_new_journal_applies_nothing_twice(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo")
    for i in range(5):
        _record(m, i)
    m.unmark_done("item-00002")
    m.mark_done("item-00002")  # order-sensitive: replayed twice it would move again
    old_journal = journal_path(path).read_bytes()
    m.write()  # compaction: manifest.json replaced, then a fresh journal ...
    journal_path(path).write_bytes(old_journal)  # ... which the kill prevented
    resumed = RunManifest.open(path, "demo")
    assert _state(resumed) == _state(m)
    assert len(resumed.stats["shards"]) == 5 and resumed.done[-1] == "item-00002"


def test_a_finished_manifest_is_the_whole_state_in_the_old_format(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo", {"seed": 1})
    m.mark_done("a")
    m.skip("b", "bad")
    m.mark_done("b")
    m.set_stat(("dropped", "a"), {"3": "tiny"})
    m.unmark_done("a")
    m.skip("a", "gone")
    m.stats = {"objects": 4, "dropped": {"a": {"3": "tiny"}}}
    m.close()
    data = path.read_bytes()
    d = orjson.loads(data)
    assert data == orjson.dumps(d, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    d.pop("versions")
    assert d == {"command": "demo", "params": {"seed": 1}, "num_done": 1, "num_skipped": 1, "done": ["b"],
                 "skipped": {"a": "gone"}, "stats": {"objects": 4, "dropped": {"a": {"3": "tiny"}}}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_another_command_or_no_resume_starts_over(tmp_path):
    path = tmp_path / "manifest.json"
    m = RunManifest.open(path, "demo")
    _record(m, 0)
    assert RunManifest.open(path, "other").done == []
    fresh = RunManifest.open(path, "demo", resume=False)
    assert fresh.done == [] and RunManifest.open(path, "demo").done == ["item-00000"]
    _record(fresh, 7)  # its first flush replaces the old run's manifest and journal
    assert RunManifest.open(path, "demo").done == ["item-00007"]


WRITER = """
import sys
from spatialforge.manifest import RunManifest
m = RunManifest.open(sys.argv[1], "demo")
i = len(m.done)
while True:
    m.append_stat("shards", {"file": f"shard-{i:06d}", "scenes": [f"item-{i:06d}"]})
    m.mark_done(f"item-{i:06d}")
    i += 1
"""


def test_kill_9_at_any_moment_resumes_without_duplicates_or_loss(tmp_path):
    path = tmp_path / "manifest.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    seen = 0
    for delay in (0.6, 0.35, 0.5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        m = RunManifest.open(path, "demo")
        n = len(m.done)
        assert n >= seen  # nothing recorded before is lost
        assert m.done == [f"item-{i:06d}" for i in range(n)]
        assert [s["file"] for s in m.stats.get("shards", [])] == [f"shard-{i:06d}" for i in range(n)]
        seen = n
