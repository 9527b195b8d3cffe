"""The mask verdict per person: the validation photos played as walk-ups through the live pipeline
(kiosk.bench.walkup). A file of its own, so that it runs beside the per-frame figures (tests/test_mask_classifier.py)
rather than after them."""
import pytest
from conftest import SHARED_DATASETS, shared_dataset

from kiosk.bench.walkup import clips_of, play, report
from training.dataset import GATE_MIN_HEIGHT, is_validation, scene_photos

SCENE_SETS_NEEDED = ("ilc2021-scenes", "ilc2021-scenes-extra")

# per person, on the validation photos played as walk-ups through the live pipeline (kiosk.bench.walkup): the
# shipped model's figures (0.980 masks = 194/198, 0.994 bare faces stopped, 0.882 worn wrongly, with the label of
# e2203162… corrected) a little rounded down; issue 21's masks target (0.98) is missed by a hair. Of 167 bare faces
# one passes (c2935227…, a cyclist in helmet and sunglasses in a blurred crowd), and one more is shown `mask` on
# some frame before it is stopped (6cebe685…, a child with a pink dummy in its mouth).
WALKUP_FLOORS = {"bare_stopped": 0.99, "masks_passed": 0.97, "incorrect_stopped": 0.87}
BARE_PASSED_AT_MOST = 1
BARE_SHOWN_MASK_AT_MOST = 2
SECONDS_P50_AT_MOST = 0.7


@pytest.mark.slow(minutes=4)
def test_verdict_per_person_on_held_out_walk_ups(config):
    for name in SCENE_SETS_NEEDED:
        shared_dataset(name)
    items = [photo.item for photo in scene_photos(SHARED_DATASETS) if is_validation(photo.group)]
    result = report(play(clips_of(items, config, GATE_MIN_HEIGHT), config))
    assert sum(result.found.values()) >= 400
    figures = result.to_json()
    assert all(figures[key] >= floor for key, floor in WALKUP_FLOORS.items()), figures
    assert len(result.bare_passed) <= BARE_PASSED_AT_MOST, figures
    assert len(result.bare_shown_mask) <= BARE_SHOWN_MASK_AT_MOST, figures
    assert result.seconds_p50 <= SECONDS_P50_AT_MOST, figures
