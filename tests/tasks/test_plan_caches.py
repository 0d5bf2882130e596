"""The per-view caches of the level 2-3 plans (``SceneView.memo``) hand out what a fresh
computation gives.

* Reused vs fresh views: the same seeds plan the same questions (and consume the same draws),
  and the records realised from them are the same, whether every plan gets a new ``SceneView``
  (empty caches) or all share one (caches filled by the plans before) — on both mirror views.
* Counting's per-view tallies and distances give the counts of the plain per-object rule
  written out here.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from taskscenes import random_scene, rich_scene
from spatialforge.tasks import TASKS
from spatialforge.tasks.counting import COND, RADII, count_matching
from spatialforge.tasks.plan import Balanced, RealiseError, Skip, Stream, balanced_choice, group_by_class
from spatialforge.tasks.relations import front_behind
from spatialforge.tasks.thresholds import COMPARE_VOLUME_RATIO, COUNT_DIST_BAND, LR_MIN, LR_MIN_IMAGE
from spatialforge.tasks.view import SceneView
from spatialforge.units import METRES

CACHED_TASKS = ("counting", "perspective", "comparison", "problem_solving", "depth_order")


def _round_as_discs(scene):
    """The scene with round footprints made discs (an ellipse's clearance, a 1024-gon, costs
    ~0.1 s: problem solving on fresh views would take minutes)."""
    def disc(o):
        w, h, _ = o.box3d.size
        return replace(o, box3d=replace(o.box3d, size=(w, h, w))) if o.shape in ("cylinder", "sphere") else o

    return replace(scene, objects=tuple(disc(o) for o in scene.objects))


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("caches")
    (root / "r").mkdir()
    scenes = [rich_scene(root / "r")] + [random_scene(s, root if s % 2 else None, n=3 + s % 10) for s in range(14)]
    return [_round_as_discs(s) for s in scenes]


def _plan(task, view, seed: int, fmt: str):
    rs = Stream.of(seed)
    plan = task.plan(view, rs, fmt, f"k{seed}")
    return plan, rs.random()  # the draw after the plan: the same number of draws consumed


@pytest.mark.parametrize("name", CACHED_TASKS)
def test_reused_view_plans_and_realises_as_fresh_views(scenes, name):
    task = TASKS[name]
    planned = 0
    for scene in scenes:
        mirrored = scene.mirrored()
        reused, reused_m = SceneView(scene), SceneView(mirrored)
        if task.unsupported(reused):
            continue
        for seed in range(30):
            fmt = task.formats[seed % len(task.formats)]
            fresh = SceneView(scene)
            got, want = _plan(task, reused, seed, fmt), _plan(task, fresh, seed, fmt)
            assert got == want, (scene.id, name, seed)
            plan = got[0]
            if isinstance(plan, Skip):
                continue
            planned += 1
            for p, a, b in ((plan, reused, fresh), (plan.mirrored(reused.W), reused_m, SceneView(mirrored))):
                try:
                    rec = task.realise(p, a)
                except RealiseError:
                    with pytest.raises(RealiseError):  # the fresh view fails alike
                        task.realise(p, b)
                    continue
                assert rec == task.realise(p, b), (scene.id, name, seed, p.view)
    assert planned >= 60


def _status(view, rel, a, j, radius):
    """The per-object counting rule, written out (``counting`` module docstring)."""
    if rel == "within":
        d = math.dist((view.x_cam[j], view.y_cam[j], view.z_cam[j]), (view.x_cam[a], view.y_cam[a], view.z_cam[a]))
        return "ambiguous" if abs(d - radius) < COUNT_DIST_BAND else ("yes" if d < radius else "no")
    if rel in ("left_of", "right_of"):
        dx, dt = view.x_cam[j] - view.x_cam[a], (view.t[j] - view.t[a]) * view.fx
        if abs(dx) < LR_MIN or abs(dt) < LR_MIN_IMAGE * view.W or (dx < 0) != (dt < 0):
            return "ambiguous"
        return "yes" if (dx < 0) == (rel == "left_of") else "no"
    if rel in ("in_front_of", "behind"):
        fb = front_behind(view, j, a)
        return "ambiguous" if fb is None else ("yes" if (fb == "front") == (rel == "in_front_of") else "no")
    d = view.logvol[j] - view.logvol[a]
    return "ambiguous" if abs(d) < math.log(COMPARE_VOLUME_RATIO) else ("yes" if d > 0 else "no")


def _plain_count(view, rel, a, category, radius):
    statuses = [(_status(view, rel, a, j, radius), j) for j in view.visible
                if j != a and category in (None, view.cat[j])]
    if any(s == "ambiguous" or (s == "yes" and not view.ok[j]) for s, j in statuses):
        return None
    return sum(s == "yes" for s, _ in statuses)


def test_counting_tallies_match_the_plain_rule(scenes):
    radii = sorted({num * METRES[unit] for unit, nums in RADII.items() for num in nums})
    checked = 0
    for scene in scenes:
        view = SceneView(scene)
        for a in view.subjects:
            for category in [None] + sorted({view.cat[j] for j in view.visible}):
                for rel in COND:
                    for radius in (radii if rel == "within" else [0.0]):
                        want = _plain_count(view, rel, a, category, radius)
                        assert count_matching(view, rel, a, category, radius) == want
                        assert count_matching(view, rel, a, category, radius) == want  # from the cache
                        checked += 1
    assert checked > 2000


def test_perspective_draw_indices_give_the_stream_samples():
    from spatialforge.tasks.perspective import _draw_codes, _drawn_triple

    for n in range(3, 14):
        seq = [10 * k + 7 for k in range(n)]
        fast, plain = Stream.of(n), Stream.of(n)
        got = [_drawn_triple(seq, c) for c in _draw_codes(fast.take(3 * 500), n)]
        assert got == [tuple(plain.sample(seq, 3)) for _ in range(500)]
        assert fast.random() == plain.random()


def _reference_balanced_choice(rs, cands, class_of, weights, thin_sole):
    """``plan.balanced_choice`` as its docstring states it, regrouping on every call."""
    groups: dict = {}
    for c in cands:
        k = class_of(c)
        if k is not None:
            groups.setdefault(k, []).append(c)
    if not groups:
        return None
    keys = sorted(groups, key=str)
    if thin_sole and len(keys) == 1 and weights and rs.random() >= weights.get(keys[0], 1.0):
        return None
    if weights is None:
        k = keys[rs.randint(len(keys))]
    else:
        cum = list(itertools.accumulate(weights.get(key, 1.0) for key in keys))
        k = keys[rs.weighted(cum)]
    return rs.choice(groups[k]), k


def test_a_kept_grouping_draws_what_balanced_choice_draws():
    cands = [(i, j) for i in range(7) for j in range(7) if i != j]
    for cls, weights in ((lambda c: (c[0] * c[1]) % 5 or None, None),
                         (lambda c: (c[0] + c[1]) % 4, {0: 0.3, 2: 2.5}),
                         (lambda c: "only" if c[0] < 3 else None, {"only": 0.4}),  # thin_sole draws
                         (lambda c: None, {"x": 0.5})):
        kept = Balanced(group_by_class(cands, cls), weights)
        a, b, c = Stream.of(11), Stream.of(11), Stream.of(11)
        for k in range(300):
            thin = k % 2 == 0
            want = _reference_balanced_choice(c, cands, cls, weights, thin)
            assert kept.draw(a, thin) == want
            assert balanced_choice(b, cands, cls, weights, thin) == want
        assert a.random() == b.random() == c.random()
