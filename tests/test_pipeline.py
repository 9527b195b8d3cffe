import threading
import time

import pytest
from videos import HEIGHT, WIDTH, walking_face, write_video
from waiting import wait_until

from kiosk.app import build_pipeline
from kiosk.bench.samples import frame_with_face, grace_hopper
from kiosk.bench.sim_camera import SimulatedIPCamera
from kiosk.config.camera import CameraConfig
from kiosk.live.camera import CameraSource
from kiosk.live.pipeline import MAX_FRAMES_BEHIND, SHOW_STALE_AFTER_S
from kiosk.types import CameraState


def run_video(config, path, seconds):
    """Runs the pipeline over the file once (to its end, at most `seconds` more than its length); returns every
    published item in publish order."""
    pipeline = build_pipeline(config.replaced(camera={"loop": False}), str(path))
    published = []
    pipeline.broadcast.subscribe(published.append)
    pipeline.start()
    wait_until(lambda: pipeline.source.ended, seconds + 10, "the end of the video")
    pipeline.stop()
    return pipeline, published


def states_in_order(published):
    states = []
    for item in published:
        if not states or states[-1] != item.state.value:
            states.append(item.state.value)
    return states


def test_bare_face_goes_from_no_face_to_stop(config, tmp_path):
    path = write_video(tmp_path / "bare.avi", walking_face(grace_hopper()), 30)
    pipeline, published = run_video(config, path, 3.3)
    assert pipeline.errors == 0
    states = states_in_order(published)
    assert states[0] == "NO_FACE" and states[-1] == "STOP", states
    assert "PASS" not in states
    labels = {t.label for item in published for t in item.faces}
    assert "no_mask" in labels


def test_masked_face_passes(config, tmp_path, masked_portrait):
    path = write_video(tmp_path / "masked.avi", walking_face(masked_portrait), 30)
    pipeline, published = run_video(config, path, 3.3)
    states = states_in_order(published)
    assert states[0] == "NO_FACE" and states[-1] == "PASS", states
    assert "STOP" not in states


def test_results_in_frame_order_and_fresh_under_a_fast_source(config, tmp_path):
    """At the first source rate (of a rising series) that this machine's pipeline cannot keep up with: results in
    frame order, and each one shown at most MAX_FRAMES_BEHIND frames old, unless nothing had been shown for
    SHOW_STALE_AFTER_S (an overloaded box shows a late picture rather than freeze)."""
    for fps in (60, 90, 120, 150, 180, 240):
        path = write_video(tmp_path / f"fast{fps}.avi", walking_face(grace_hopper(), 0, fps), fps)
        pipeline, published = run_video(config, path, 1.0)
        if pipeline.source.frames_dropped > 0:
            break
    else:
        pytest.fail("the pipeline kept up even with a 240 fps source")
    indices = [item.frame_index for item in published]
    assert len(indices) >= 3
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    for before, item in zip(published, published[1:]):
        assert item.frames_behind <= MAX_FRAMES_BEHIND or item.published - before.published >= SHOW_STALE_AFTER_S, \
            f"at {fps} fps: frame {item.frame_index} shown {item.frames_behind} frames old"


def test_unplugged_camera_is_reported_and_recovers(config):
    camera = SimulatedIPCamera(frame_with_face(WIDTH, HEIGHT)).plug()
    threads_before = set(threading.enumerate())
    pipeline = build_pipeline(config, camera.url)
    told: list[tuple[bool, str]] = []  # what the record hears (kiosk.record.events: CAMERA_LOST, CAMERA_RESTORED)
    pipeline.camera_listeners.append(lambda connected, detail: told.append((connected, detail)))
    pipeline.start()
    try:
        wait_until(lambda: pipeline.state != CameraState.DISCONNECTED and pipeline.broadcast.latest() is not None, 10)
        camera.unplug()
        unplugged = time.monotonic()
        wait_until(lambda: pipeline.state == CameraState.DISCONNECTED, 5)
        assert time.monotonic() - unplugged < 2.0  # noticed at once (the stream ends: about 0.1 s), not by a stall
        camera.plug()
        published_before = pipeline.broadcast.latest().sequence
        wait_until(lambda: pipeline.state != CameraState.DISCONNECTED, 10)
        wait_until(lambda: pipeline.broadcast.latest().sequence > published_before, 5)
        assert pipeline.source.reconnects >= 1
        wait_until(lambda: len(told) == 2, 5, "the camera lost and back, told once each")
        assert [connected for connected, _ in told] == [False, True]  # nothing at the start: the first frame is none
        assert "no frame" in told[0][1] or "cannot open" in told[0][1], told
    finally:
        pipeline.stop()
        camera.unplug()
    wait_until(lambda: not [t for t in set(threading.enumerate()) - threads_before
                            if t.name.startswith(("camera", "pipeline"))], 5, "the pipeline's threads ending")


def test_camera_retries_a_missing_device_with_backoff():
    source = CameraSource(CameraConfig(source="/nonexistent/video.mp4")).start()
    wait_until(lambda: source.last_error, 5, "the first failed open")
    assert not source.connected and "no such video file" in source.last_error
    source.stop()
    assert not source.alive


def test_a_video_file_without_loop_ends_and_says_so(config, tmp_path):
    path = write_video(tmp_path / "short.avi", walking_face(grace_hopper(), 5, 10), 30)
    pipeline = build_pipeline(config.replaced(camera={"loop": False}), str(path)).start()
    try:
        wait_until(lambda: pipeline.source.ended, 10)
        assert pipeline.source.frames_read == 15  # played once, not again
        wait_until(lambda: pipeline.state == CameraState.DISCONNECTED, 5)
        healthy, reason, _ = pipeline.health()
        assert not healthy and "video file ended" in reason
        assert pipeline.worth_keeping()  # systemd's watchdog must not restart it to replay the file
    finally:
        pipeline.stop()


def test_a_person_taking_anothers_place_is_never_published_with_the_old_label(config, tmp_path, masked_portrait):
    cut = 45  # a bare face, then from frame 45 a masked face at exactly the same place
    frames = [frame_with_face(WIDTH, HEIGHT, grace_hopper())] * cut + \
        [frame_with_face(WIDTH, HEIGHT, masked_portrait)] * 60
    _, published = run_video(config, write_video(tmp_path / "cut.avi", frames, 30), 3.5)
    before = [item for item in published if item.frame_index < cut]
    after = [item for item in published if item.frame_index >= cut]
    assert any(face.label == "no_mask" for item in before for face in item.faces)
    assert not [item.frame_index for item in after if any(face.label == "no_mask" for face in item.faces)]
    assert after[-1].state.value == "PASS"


def test_a_looping_video_file_removed_while_playing_is_a_camera_unplugged(tmp_path):
    path = write_video(tmp_path / "camera.avi", walking_face(grace_hopper(), 2, 10), 30)
    source = CameraSource(CameraConfig(source=str(path))).start()
    try:
        wait_until(lambda: source.connected, 10, "the file playing")
        path.rename(tmp_path / "away.avi")
        wait_until(lambda: not source.connected and source.last_error, 10, "disconnected once the file is gone")
        (tmp_path / "away.avi").rename(path)
        wait_until(lambda: source.connected, 15, "playing again once the file is back")
    finally:
        source.stop()


def test_a_failing_detection_callback_is_logged_counted_and_the_pipeline_goes_on(config, caplog):
    """The detector's results cannot be read for a few frames (the OpenVINO callback raises): each such frame is
    counted, the fault is logged once, and frames before and after are published as usual."""
    camera = SimulatedIPCamera(frame_with_face(WIDTH, HEIGHT)).plug()
    pipeline = build_pipeline(config, camera.url)
    read_outputs = pipeline.detector.outputs_of
    broken = threading.Event()

    def outputs_of(request):
        if broken.is_set():
            raise RuntimeError("output tensor unreadable")
        return read_outputs(request)

    pipeline.detector.outputs_of = outputs_of  # what the callback calls on OpenVINO's thread
    pipeline.start()
    try:
        wait_until(lambda: pipeline.metrics.published >= 5, 20, "frames before the fault")
        broken.set()
        wait_until(lambda: pipeline.errors >= 5, 20, "failed frames counted")
        broken.clear()
        published = pipeline.metrics.published
        wait_until(lambda: pipeline.metrics.published >= published + 5, 20, "frames after the fault")
        assert pipeline.health().healthy and pipeline.snapshot().errors == pipeline.errors
    finally:
        pipeline.stop()
        camera.unplug()
    logged = [r for r in caplog.records if "output tensor unreadable" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelname == "ERROR", [r.getMessage() for r in logged]
