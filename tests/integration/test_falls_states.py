"""What became of a fallen person (issue 23, point 4): down, not seen since the fall, got up. Losing the pose after
a fall keeps the alarm; it is never taken for getting up. The state machine on scripted features, the live
detector's hook and webhook, the report, and a real clip whose pose is lost after the fall."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import posecoach
from posecoach.analysis.falls import webhook_hook
from posecoach.analysis.falls.events import GOT_UP, LOST, FallEvent, fall_events
from posecoach.analysis.falls.features import FEATURES
from posecoach.render.fall_overlay import FallDecorator
from tests.conftest import data_file

F = {f: i for i, f in enumerate(FEATURES)}
FPS = 10


def _rows(n: int, above: float, trunk: float) -> np.ndarray:
    X = np.full((n, len(FEATURES)), 0.0)
    X[:, F["head_above_hip"]], X[:, F["trunk_deg"]] = above, trunk
    X[:, F["upright_before"]], X[:, F["trunk_min_3s"]] = 1.4, 2.0
    return X


def _fall_then(after: np.ndarray, p_after: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upright 2 s, down 2 s (an alert), then ``after`` (rows of features) with probability ``p_after``."""
    X = np.concatenate([_rows(20, 1.3, 3.0), _rows(20, 0.1, 85.0), after])
    p = np.concatenate([np.zeros(18), np.linspace(0.3, 0.95, 4), np.full(18, 0.95), np.full(len(after), p_after)])
    return np.arange(len(p)) / FPS, p, X


def test_a_person_lost_after_the_fall_is_never_recovered() -> None:
    """The pose is lost for 5 s after the fall (the model then sees nothing: probability 0): the event stays open
    to the end, not seen since the fall."""
    t, p, X = _fall_then(np.full((50, len(FEATURES)), np.nan))
    (ev,) = fall_events(t, p, X)
    assert ev.outcome == LOST and not ev.recovered
    assert ev.end_s == pytest.approx(t[-1]) and ev.seen_s == pytest.approx(t[39])  # last seen lying, at 3.9 s
    assert ev.outcome_text == "not seen since the fall"


def test_a_drop_the_video_ends_before_confirming_is_an_unconfirmed_fall() -> None:
    """After repeated dips (exercise-like), a drop waits `CONFIRM_S` for confirmation; the video ends 1 s after it
    with the body still down: reported as an unconfirmed fall alerted at the last frame, not dropped in silence.
    A dip that comes back up before the end stays quiet."""
    dips = np.concatenate([np.concatenate([_rows(8, 1.3, 3.0), _rows(8, 0.1, 85.0)]) for _ in range(3)])
    X = np.concatenate([dips, _rows(10, 1.3, 3.0), _rows(10, 0.1, 85.0)])
    p = np.concatenate([np.zeros(len(dips) + 10), np.full(10, 0.95)])
    t = np.arange(len(p)) / FPS
    (ev,) = fall_events(t, p, X)
    assert not ev.confirmed and ev.alert_s == pytest.approx(t[-1]) and ev.start_s < t[-1] - 0.5
    assert "unconfirmed" in ev.outcome_text
    back_up = np.concatenate([X, _rows(10, 1.3, 3.0)])
    assert fall_events(np.arange(len(back_up)) / FPS, np.concatenate([p, np.zeros(10)]), back_up) == []


def test_a_real_fall_cut_short_is_reported_unconfirmed() -> None:
    """Le2i Coffee_room_01_video_29 (YOLOv8-pose keypoints) ends 0.9 s after the fall's drop, which was still
    waiting for confirmation: the shipped model reports it as an unconfirmed fall (it was missed before)."""
    from posecoach.analysis.falls import datasets as ds
    from posecoach.analysis.falls import default_model, detect_sequence
    from tests.conftest import DATA

    item = next(i for i in ds.le2i(DATA, "coco17") if i.name == "Coffee_room_01_video_29")
    report = detect_sequence(item.sequence, default_model())
    assert report.fall_detected and [e.confirmed for e in report.events] == [False]
    assert report.events[0].alert_s == pytest.approx(report.times_s[-1], abs=0.05)


def test_seen_again_still_down_then_getting_up() -> None:
    """Lost, seen again lying (down), then upright for a second: got up, and only then."""
    after = np.concatenate([np.full((30, len(FEATURES)), np.nan), _rows(30, 0.1, 85.0), _rows(20, 1.3, 3.0)])
    t, p, X = _fall_then(after)
    from posecoach.analysis.falls.events import FallStateMachine

    sm = FallStateMachine()
    changes = []
    for i in range(len(t)):
        ev = sm.update(i, float(t[i]), float(p[i]), X[i])
        if ev is not None:
            changes.append((i, ev.outcome))
    assert [c[1] for c in changes] == ["down", "lost", "down", "got_up"], changes
    assert changes[1][0] > 40 and changes[2][0] == 70  # lost after 0.5 s unseen; down again when seen
    (ev,) = sm.events
    assert ev.outcome == GOT_UP and ev.recovered and ev.end_s == pytest.approx(t[100 + FPS])


def test_low_probability_while_seen_lying_is_not_getting_up() -> None:
    """Seen lying with a low probability: still down, not released (released only when seen and not lying)."""
    t, p, X = _fall_then(_rows(50, 0.1, 85.0))
    (ev,) = fall_events(t, p, X)
    assert ev.outcome == "down" and not ev.recovered


def test_the_webhook_sends_the_alert_then_each_change() -> None:
    received: list[dict] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=lambda: [server.handle_request() for _ in range(2)], daemon=True)
    thread.start()
    hook = webhook_hook(f"http://127.0.0.1:{server.server_port}/alert")
    ev = FallEvent(10, 12, 11, 12, 1.0, 1.2, 1.1, 1.2, 0.9, False, seen_s=1.2)
    hook(ev)
    assert arrived.wait(5)  # the hook posts from a thread of its own: the alert first
    ev.outcome = LOST
    hook(ev)
    thread.join(5)
    server.server_close()
    assert [r["event"] for r in received] == ["fall", "fall_update"]
    assert received[1]["outcome"] == "lost" and received[1]["outcome_text"] == "not seen since the fall"


def test_real_clip_losing_the_pose_after_the_fall_keeps_the_alarm() -> None:
    """GMDCSA24 subject 2, clip 12 (night, 15 fps): the pose is lost about 1 s after the fall and the person is
    not seen again. The report says so; it once said 'recovered, lying 2.8 s'."""
    rep = posecoach.detect_falls(data_file("falls/gmdcsa24/Subject 2/Fall/12.mp4"))
    assert rep.fall_detected
    ev = rep.events[-1]
    assert ev.outcome == "lost" and not ev.recovered and ev.seen_s is not None
    assert ev.end_s == pytest.approx(rep.times_s[-1], abs=0.1)  # open to the end of the video
    banner = FallDecorator(rep)
    assert banner.state(ev.end_frame, ev.end_frame, ev.outcome, ev.seen_s) == "NOT SEEN SINCE THE FALL"


def test_a_sure_drop_whose_pose_is_lost_before_the_body_looks_low_alerts_as_not_seen() -> None:
    """A fast fall where the pose is lost before the body is ever seen low (Le2i Home_01 video 11 and Home_02
    video 36, YOLOv8-pose): the probability is high while the last poses still look upright, then nothing. The
    alert fires once the body has been unseen for `LOST_S`, as "not seen since the fall". The same high probability
    with the body seen upright throughout raises nothing."""
    up = _rows(30, 1.3, 3.0)
    X = np.concatenate([up, np.full((20, len(FEATURES)), np.nan)])
    p = np.concatenate([np.zeros(24), np.full(6, 0.95), np.zeros(20)])
    t = np.arange(len(p)) / FPS
    (ev,) = fall_events(t, p, X)
    assert ev.outcome == LOST and not ev.recovered
    assert t[30] < ev.alert_s <= t[30] + 0.7 and ev.seen_s == pytest.approx(t[29])
    assert fall_events(t, p, np.concatenate([up, _rows(20, 1.3, 3.0)])) == []
