"""Every threshold the task engine uses, in one place (``docs/tasks.md`` lists them).

A question is only asked when its answer is clear: a relation whose deciding quantity
falls inside the band of a threshold below is *degenerate* and the plan is skipped.
Lengths are metres, angles degrees.  All thresholds are invariant under mirroring
(they compare magnitudes, never signs), so a mirrored partner never flips a decision.
"""

from __future__ import annotations

import math

# -- objects that may be asked about
MIN_DEPTH = 0.10  # object centre at least this far in front of the camera (camera z)
MIN_BOX_SIDE = 0.01  # a box side below this is a degenerate (failed) estimate
MAX_BOX_SIDE = 50.0  # ... and above this
HARDLY_VISIBLE = 0.8  # occlusion or truncation >= this: never the subject of a question

# -- referring expressions (references.py)
REF_IMAGE_GAP = 0.04  # fraction of the image width between projected centres (left/right)
REF_LR_GAP = 0.10  # and metres of camera-frame x between centres
REF_DIST_GAP_ABS = 0.15  # distance to the camera: max(abs, rel * distance)
REF_DIST_GAP_REL = 0.10
REF_HEIGHT_GAP = 0.10  # centre heights (gravity)
REF_VOLUME_RATIO = 1.25  # "largest"/"smallest"
REF_TALL_RATIO = 1.15  # "tallest"/"shortest"
PCA_LINEAR_RATIO = 0.3  # 2nd/1st principal std of the centres below this -> a line (HiSpatial 7.3)
HIGHLIGHT_MIN_SIDE = 8.0  # px: an unreferable object's 2D box (clipped to the image) needs sides >= this
#                           to be named "the chair highlighted by the red box" (highlight.py), and
#                           3 outline widths (highlight.min_side)
HIGHLIGHT_MAX_COVERED = 0.5  # a highlight box with more of its outline pixels under other boxes' outlines is
#                              not used (its colour cannot be read; highlight.hidden_boxes)

# -- pairwise relations (camera-frame x for left/right, camera z for front/behind,
#    world z (gravity) for above/below)
LR_MIN = 0.10  # |dx| in metres, and the image order of the centres must agree
LR_MIN_IMAGE = 0.02  # ... with at least this fraction of the image width between them
FB_MIN = 0.15  # |dz| camera depth
AB_MIN = 0.15  # |dh| centre heights
MIN_VECTOR = 0.10  # centres closer than this have no direction
MIN_LENGTH = 0.05  # numeric answers below this (e.g. a vertical distance of two floor objects) are not asked

# -- depth ordering of pixels
DEPTH_ORDER_ABS = 0.10
DEPTH_ORDER_REL = 0.10  # |z1 - z2| >= max(abs, rel * min(z1, z2))

# -- comparisons
COMPARE_DIST_ABS = 0.15  # distance-to-camera gaps: max(abs, rel * nearer distance)
COMPARE_DIST_REL = 0.10
COMPARE_VOLUME_RATIO = 1.25

# -- orientation (object fronts)
FRONT_VERTICAL = 0.7  # |front_z| >= this: facing up / down
FRONT_LEVEL = 0.3  # |front_z| <= this: a horizontal facing; in between is degenerate
FACING_MARGIN = 10.0  # degrees away from the 45/135 degree sector boundaries
SAME_MAX = 30.0  # angle between fronts: same direction
PERP_MIN, PERP_MAX = 60.0, 120.0  # perpendicular
OPPOSITE_MIN = 150.0  # opposite

# -- perspective taking (horizontal plane)
MIN_BASELINE = 0.30  # observer -> facing target, and observer -> queried object
SIDE_MIN = 0.20  # |lateral| (left/right) or |forward| (front/behind) offset
SIDE_MIN_ANGLE = 10.0  # degrees away from straight ahead / behind for left/right
CLOCK_MARGIN = 5.0  # degrees away from a clock-sector boundary (sectors are 30 degrees)

# -- counting
COUNT_DIST_BAND = 0.10  # |distance - radius| below this is ambiguous

# -- problem solving
FIT_MARGIN = 0.10  # |gap - object side| or |gap - reach| below this is ambiguous
MIN_GAP = 0.10  # objects closer than this along their centre line are touching

# -- multiple choice / true-false distractors
MCQ_MIN_REL = 0.20  # numeric distractors differ from the truth and each other by >= 20 %
VECTOR_MIN_ANGLE = 30.0  # vector distractors at least this far from the truth
VECTOR_MIN_PAIR = 20.0  # ... and from each other

LOG_VOLUME_GAP = math.log(REF_VOLUME_RATIO)
LOG_TALL_GAP = math.log(REF_TALL_RATIO)
