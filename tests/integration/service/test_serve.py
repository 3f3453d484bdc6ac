"""`posecoach serve` and `posecoach users|keys`: zero configuration, the first admin made by a command (never
printed by the server), and a real clip analysed end to end by the server alone (its own process pool, SQLite,
local storage)."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from posecoach.cli.app import main
from tests.conftest import data_file


def test_users_add_asks_for_a_password_and_refuses_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSECOACH_DATA_DIR", str(tmp_path))

    def add(*args: str, stdin: str = "a long enough password\n") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(["users", "add", *args])

    assert add("carol", "--role", "clinician") == 0
    out = capsys.readouterr().out
    assert "clinician carol with a password" in out and "pc_" not in out  # no key unless asked for
    assert (tmp_path / "posecoach.db").is_file()
    assert add("dave", "--key") == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("pc_")
    assert add("carol") == 1 and add("erin", "--role", "boss") == 1
    assert add("fay", stdin="short\n") == 1 and add("gil", stdin="") == 1 and add("../x") == 1
    err = capsys.readouterr().err
    assert "exists already" in err and "unknown role" in err and "too short" in err and "Traceback" not in err
    assert "no password on standard input" in err and "bad account name" in err
    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "carol" in listed and "dave" in listed and "fay" not in listed
    monkeypatch.setenv("POSECOACH_JOB_WORKERS", "0")
    assert add("erin") == 1
    assert "POSECOACH_JOB_WORKERS" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.video
def test_serve_alone_analyses_a_real_clip_end_to_end(tmp_path: Path) -> None:
    clip = data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4")
    port = _free_port()
    env = {**os.environ, "POSECOACH_DATA_DIR": str(tmp_path / "data")}
    env.pop("POSECOACH_DATABASE_URL", None)
    made = subprocess.run([sys.executable, "-m", "posecoach", "users", "add", "admin", "--role", "admin",
                           "--no-password", "--key"], env=env, capture_output=True, text=True, check=True)
    key = made.stdout.strip().splitlines()[-1]  # the first admin: made by a command, its key shown there once
    log = tmp_path / "server.log"  # a file, not a pipe that could fill up and block the server
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "posecoach", "serve", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
            for _ in range(100):
                try:
                    if http.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            video = http.post("/v1/videos", params={"filename": clip.name}, content=clip.read_bytes(),
                              headers={"Content-Type": "video/mp4"})
            assert video.status_code == 201, video.text
            assert video.json()["num_frames"] == 49
            job = http.post("/v1/jobs", json={"video_id": video.json()["id"]}).json()
            seen = set()
            for _ in range(600):
                state = http.get(f"/v1/jobs/{job['id']}").json()
                seen.add(state["state"])
                if state["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            assert state["state"] == "done", state
            report = http.get(f"/v1/jobs/{job['id']}/report").json()
    finally:
        server.terminate()
        server.wait(30)
    assert report["exercise"]["name"] == "squat"  # the clip's folder says so; recognised, not given
    assert not report["exercise"]["given"] and report["reps"]["count"] >= 1
    assert report["input"] == {**report["input"], "frames": 49, "path": clip.name}
    assert "queued" in seen or "running" in seen


def test_the_manual_documents_every_setting() -> None:
    from posecoach.service.settings import Settings
    from tests.conftest import REPO

    manual = (REPO / "docs" / "service.md").read_text(encoding="utf-8")  # the service's page of the manual
    for name in Settings.model_fields:
        assert f"`POSECOACH_{name.upper()}`" in manual, name
