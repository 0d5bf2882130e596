import numpy as np

from spatialforge.geometry.support import bottom_hidden


def _bottom_hidden_reference(rows, cols, z_up, z_cam, depth, owner, own, band, steps=3):
    """Step by step: the first pixel below each lowest point that is outside the image or
    not the object decides (hidden when outside or nearer)."""
    H = depth.shape[0]
    low = np.flatnonzero(z_up <= z_up.min() + band)
    votes = []
    for r, c, zc in zip(rows[low], cols[low], z_cam[low]):
        for k in range(1, steps + 1):
            if r + k >= H:
                votes.append(True)
                break
            if owner[r + k, c] != own:
                d = depth[r + k, c]
                votes.append(bool(d > 0 and d < zc - 0.02 - 0.01 * zc))
                break
    return bool(votes) and np.mean(votes) > 0.5


def test_bottom_hidden_matches_the_step_by_step_rule():
    rng = np.random.default_rng(5)
    H, W = 12, 9
    for _ in range(300):
        owner = rng.integers(-1, 3, (H, W)).astype(np.int32)
        depth = rng.uniform(0.5, 3.0, (H, W)).astype(np.float32)
        depth[rng.random((H, W)) < 0.1] = np.nan
        rows, cols = np.nonzero(owner == 0)
        if rows.size == 0:
            continue
        z_cam = depth[rows, cols]
        z_up = -rows + rng.normal(0, 0.3, rows.size)  # lower rows are lower in the world
        band = float(rng.uniform(0.1, 2.0))
        got = bottom_hidden(rows, cols, z_up, z_cam, depth, owner, 0, band)
        assert got == _bottom_hidden_reference(rows, cols, z_up, z_cam, depth, owner, 0, band)
