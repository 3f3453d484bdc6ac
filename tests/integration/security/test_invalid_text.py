"""Invalid text (issue 25): a NUL byte, an unpaired surrogate or a control character wherever text enters (the
upload's file name, other query parameters, the path, JSON bodies at any depth, form bodies) is refused with 422
and the reason, before anything is stored. Before, a NUL in an upload's file name gave a 500 on PostgreSQL and
left the uploaded file behind in storage; on SQLite and MariaDB it was stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.service.conftest import Api, ApiFactory


def stored_files(api: Api) -> list[Path]:
    root: Path = api.client.app.state.settings.resolved_storage_dir()  # type: ignore[attr-defined]
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["clip%00.mp4", "a%01b.mp4", "two%0Alines.mp4", "del%7F.mp4", "c1%C2%85.mp4"])
def test_upload_name_with_nul_or_control_is_refused_and_leaves_no_file(
        api_factory: ApiFactory, db_url: str, small_video: bytes, name: str) -> None:
    api = api_factory(database_url=db_url)
    answer = api.upload(small_video, name=name)
    assert answer.status_code == 422, answer.text
    assert "filename" in answer.json()["detail"] and "U+00" in answer.json()["detail"]
    assert stored_files(api) == []  # no orphan upload, no half-spooled file
    assert api.call("GET", "/v1/videos").json() == []
    ok = api.upload(small_video, name="clip ünïcode.mp4")  # a real name still goes in, on every database
    assert ok.status_code == 201, ok.text
    assert ok.json()["filename"] == "clip ünïcode.mp4"


BAD_JSON = [
    ('{"name": "squat\\u0000", "video_id": "%s"}', "body.name", "NUL"),
    ('{"name": "squat\\ud800", "video_id": "%s"}', "body.name", "unpaired surrogate"),
    ('{"name": "squat", "video_id": "%s", "description": "a\\u0007b"}', "body.description", "control"),
    ('{"name": "squat", "video_id": "%s", "joints": ["knee\\u0000"]}', "body.joints[0]", "NUL"),
    ('{"name": "squat", "video_id": "%s", "k\\u0000": 1}', "a key of body", "NUL"),
]


@pytest.mark.parametrize(("body", "where", "what"), BAD_JSON)
def test_json_with_invalid_text_is_refused(api_factory: ApiFactory, db_url: str, small_video: bytes, body: str,
                                           where: str, what: str) -> None:
    api = api_factory(database_url=db_url)
    video_id = api.upload(small_video).json()["id"]
    answer = api.call("POST", "/v1/references", content=(body % video_id).encode(),
                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert where in answer.json()["detail"] and what in answer.json()["detail"]
    assert api.call("GET", "/v1/references").json() == []
    lines = api.call("POST", "/v1/references", json={"name": "squat", "video_id": video_id,
                                                      "description": "line one\nline two\ttabbed"})
    assert lines.status_code == 202, lines.text  # tab and line breaks are fine in free text


def test_invalid_text_in_query_path_and_form(api: Api) -> None:
    for url in ("/v1/history?patient=ali%00ce", "/v1/history?patient=ali%1Bce", "/v1/videos/abc%00def",
                "/v1/jobs?state=done%00"):
        answer = api.call("GET", url)
        assert answer.status_code == 422, (url, answer.text)
        assert "NUL" in answer.json()["detail"] or "control" in answer.json()["detail"]
    care = api.call("POST", "/v1/care-links", who="carol", content=b'{"patient": "alice\\u0000"}',
                    headers={"Content-Type": "application/json"})
    assert care.status_code == 422 and "body.patient" in care.json()["detail"]
    form = api.call("POST", "/v1/session", content=b"api_key=pc%00x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 422 and "form field 'api_key'" in form.json()["detail"]
