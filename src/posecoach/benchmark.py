"""Throughput benchmark: PoseCoach against the naive loop most samples use, on the same clip, in one run.

The naive baseline is OpenCV decode -> `PoseLandmarker` (VIDEO mode) per frame -> OpenCV drawing and
`cv2.VideoWriter`. Every variant runs in its own process so that its peak memory (resident set of the
whole process tree, sampled every 50 ms) is its own. Times run from the start of the work, including
loading MediaPipe and the model (in PoseCoach's case, starting its worker processes). Landmark agreement
is the mean distance in pixels between the naive loop's landmarks and PoseCoach's raw (unsmoothed) subject
landmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIANTS = ("naive", "naive-no-overlay", "posecoach", "posecoach+overlay")


def _naive(video: str, model: str, out_dir: Path, overlay: bool) -> dict[str, float]:
    t0 = time.perf_counter()  # like PoseCoach's figure, includes loading the libraries and the model
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from posecoach.core.skeleton import BLAZEPOSE_33
    from posecoach.pose import models

    path, _ = models.resolve(model)
    opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(path)),
                                        running_mode=vision.RunningMode.VIDEO)
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    writer = None
    points = []
    with vision.PoseLandmarker.create_from_options(opts) as landmarker:
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb),
                                                 int(i * 1000 / fps))
            h, w = bgr.shape[:2]
            if result.pose_landmarks:
                pts = np.array([(q.x, q.y) for q in result.pose_landmarks[0]], np.float32)
            else:
                pts = np.full((33, 2), np.nan, np.float32)
            points.append(pts)
            if overlay:
                if writer is None:
                    writer = cv2.VideoWriter(str(out_dir / "naive.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                if np.isfinite(pts).all():
                    px = (pts * [w, h]).astype(int)
                    for a, b in BLAZEPOSE_33.edges:
                        cv2.line(bgr, tuple(px[a]), tuple(px[b]), (0, 255, 0), 2)
                    for p in px:
                        cv2.circle(bgr, tuple(p), 3, (0, 0, 255), -1)
                writer.write(bgr)
            i += 1
    elapsed = time.perf_counter() - t0
    cap.release()
    if writer is not None:
        writer.release()
    np.save(out_dir / "naive_points.npy", np.asarray(points))
    return {"frames": len(points), "seconds": elapsed}


def _posecoach(video: str, model: str, out_dir: Path, overlay: bool, workers: int | None) -> dict[str, float]:
    from posecoach.pose.engine import PoseEngine
    from posecoach.render.overlay_video import render_overlay

    t0 = time.perf_counter()
    with PoseEngine(model, workers=workers) as engine:
        seq = engine.process(video)
        if overlay:
            render_overlay(video, seq, out_dir / "posecoach.mp4", workers=workers, pool=engine.pool())
    elapsed = time.perf_counter() - t0
    raw = seq.raw_landmarks if seq.raw_landmarks is not None else seq.landmarks
    subject = seq.subject_index
    pts = raw[:, subject, :, :2] if subject is not None else np.full((seq.num_frames, 33, 2), np.nan)
    np.save(out_dir / "posecoach_points.npy", pts)
    return {"frames": seq.num_frames, "seconds": elapsed, "width": seq.source.get("width", 0),
            "height": seq.source.get("height", 0)}


def run_variant(variant: str, video: str, model: str, out_dir: str, workers: int | None) -> dict[str, float]:
    """Run one variant in this process (called in a child process by `measure`)."""
    out = Path(out_dir)
    if variant.startswith("naive"):
        return _naive(video, model, out, overlay=variant == "naive")
    return _posecoach(video, model, out, overlay=variant.endswith("overlay"), workers=workers)


def _peak_tree_rss(proc: subprocess.Popen[bytes]) -> float:
    import psutil

    peak = 0
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.05)
    return peak / 2**20


@dataclass
class Row:
    variant: str
    frames: int
    seconds: float
    peak_rss_mb: float

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def measure(video: str, model: str = "full", variants: tuple[str, ...] = VARIANTS,
            workers: int | None = None) -> tuple[list[Row], float | None]:
    """Run each variant in a fresh process; return the rows and the landmark difference (pixels)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="posecoach-bench-") as tmp:
        size = (0, 0)
        for v in variants:
            result = Path(tmp) / f"{v}.json"
            code = ("import json,sys; from posecoach.benchmark import run_variant; "
                    f"r = run_variant({v!r}, {video!r}, {model!r}, {tmp!r}, {workers!r}); "
                    f"open({str(result)!r}, 'w').write(json.dumps(r))")
            env = {**os.environ, "GLOG_minloglevel": "2"}
            proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
            peak = _peak_tree_rss(proc)
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.returncode != 0:
                raise RuntimeError(f"benchmark variant {v} failed: {stderr.strip().splitlines()[-1:]}")
            r = json.loads(result.read_text())
            if r.get("width"):
                size = (int(r["width"]), int(r["height"]))
            rows.append(Row(v, int(r["frames"]), float(r["seconds"]), peak))
        diff = None
        a, b = Path(tmp) / "naive_points.npy", Path(tmp) / "posecoach_points.npy"
        if a.exists() and b.exists() and size[0]:
            na, pc = np.load(a), np.load(b)
            n = min(len(na), len(pc))
            d = (na[:n] - pc[:n]) * np.array(size, np.float32)
            dist = np.linalg.norm(d, axis=-1)
            diff = float(np.nanmean(dist)) if np.isfinite(dist).any() else None
    return rows, diff


def format_table(rows: list[Row], diff: float | None, video: str, model: str) -> str:
    base = {r.variant: r.fps for r in rows}
    lines = [f"clip: {video}  model: {model}  cores: {os.cpu_count()}", "",
             "| variant | frames | seconds | frames/s | vs naive (same work) | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    pairs = {"posecoach": "naive-no-overlay", "posecoach+overlay": "naive"}
    for r in rows:
        ref = base.get(pairs.get(r.variant, ""), 0.0)
        ratio = f"{r.fps / ref:.2f}x" if ref else "-"
        lines.append(f"| {r.variant} | {r.frames} | {r.seconds:.1f} | {r.fps:.1f} | {ratio} | {r.peak_rss_mb:.0f} |")
    if diff is not None:
        lines += ["", f"mean landmark difference, PoseCoach raw vs naive: {diff:.2f} px"]
    return "\n".join(lines)
