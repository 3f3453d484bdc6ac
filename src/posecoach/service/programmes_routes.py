"""Routes of home exercise programmes (issue 28): a clinician prescribes and edits (each edit a new version), the
patient reads today's session and records the sessions done, both see adherence; the clinician's attention list
and a CSV of a patient's sessions. Thin: `programmes_db` holds the queries, `adherence` the rules.

Scoped like every route: a programme the caller may not read answers 404, as one that does not exist.
"""

from __future__ import annotations

import csv
import io
import json
import pathlib
import tempfile
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from posecoach.service import adherence, audit, care_db
from posecoach.service import programme_sessions_db as sdb
from posecoach.service import programmes_db as pdb
from posecoach.service import programmes_schemas as ps
from posecoach.service.db import User
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing
from posecoach.service.schemas import Problem
from posecoach.service.security import content_disposition

router = APIRouter(tags=["programmes"])
ProgrammeId = Annotated[str, Path(max_length=32, description="the programme's id")]
Day = Annotated[
    date | None,
    Query(
        alias="date",
        ge=ps.FIRST_DAY,
        le=ps.LAST_DAY,
        description="the day asked about, your calendar date (default: today in UTC)",
    ),
]
ERRORS = {403: {"model": Problem}, **NOT_FOUND, 409: {"model": Problem}, 422: {"model": Problem}}


def _error(exc: Exception) -> HTTPException:
    code = {pdb.NotFound: 404, pdb.Refused: 403, pdb.Invalid: 422, pdb.Conflict: 409}[type(exc)]
    return HTTPException(code, str(exc))


PROBLEMS = (pdb.NotFound, pdb.Refused, pdb.Invalid, pdb.Conflict)


def _today(day: date | None) -> date:
    return day or pdb.utcnow().date()


def _item(i: adherence.Item) -> ps.ItemOut:
    return ps.ItemOut(
        id=i.key,
        guide_id=i.guide_id,
        guide_name=i.guide_name,
        sets=i.sets,
        reps=i.reps,
        hold_s=i.hold_s,
        rest_s=i.rest_s,
        per_week=i.per_week,
        notes=i.notes,
    )


def _out(v: pdb.View) -> ps.ProgrammeOut:
    return ps.ProgrammeOut(
        id=v.id,
        clinician=v.clinician,
        patient=v.patient,
        version=v.version,
        current_version=v.current_version,
        title=v.title,
        start_date=v.start_date,
        end_date=v.end_date,
        author=v.author,
        items=[_item(i) for i in v.items],
        created_at=v.created_at,
        updated_at=v.updated_at,  # type: ignore[arg-type]
        version_created_at=v.version_created_at,
    )  # type: ignore[arg-type]


def _specs(body: ps.ProgrammeEdit) -> list[pdb.ItemSpec]:
    return [
        pdb.ItemSpec(
            guide_id=i.guide_id,
            sets=i.sets,
            reps=i.reps,
            hold_s=i.hold_s,
            rest_s=i.rest_s,
            per_week=i.per_week,
            notes=i.notes,
            key=i.id,
        )
        for i in body.items
    ]


def _session(v: sdb.SessionView) -> ps.SessionOut:
    r = v.row
    done = [
        ps.ExerciseDoneOut(
            item_id=d.item_key,
            guide_name=name,
            sets_done=d.sets_done,
            reps_done=d.reps_done,
            scores=(scores := json.loads(d.scores)),
            mean_score=round(sum(scores) / len(scores), 2) if scores else None,
            rom_deg=d.rom_deg,
        )
        for d, name in v.exercises
    ]
    return ps.SessionOut(
        id=r.id,
        client_id=r.client_id,
        programme_id=r.programme_id,
        version=r.version,
        day=r.day,
        started_at=r.started_at,
        finished_at=r.finished_at,  # type: ignore[arg-type]
        complete=r.complete,
        pain=r.pain,
        difficulty=r.difficulty,
        exercises=done,
        created_at=r.created_at,
    )  # type: ignore[arg-type]


def _read(request: Request, user: User, v: pdb.View, what: str) -> None:
    """Audit a clinician's (or an admin's) read of a patient's sessions."""
    audit.record_read(_db(request), user, v.patient_id, what, v.id, **audit.origin(request))


@router.post("/v1/programmes", response_model=ps.ProgrammeOut, status_code=201, responses=ERRORS)
def create_programme(body: ps.ProgrammeCreate, user: Caller, request: Request) -> ps.ProgrammeOut:
    """A clinician prescribes a programme (version 1) to a patient who accepted their care. 403: you are not a
    clinician; 404: no such patient, or one who has not accepted your care; 422: a guide the patient cannot see."""
    try:
        return _out(
            pdb.create(_db(request), user, body.patient, body.title, body.start_date, body.end_date, _specs(body))
        )
    except PROBLEMS as exc:
        raise _error(exc) from None


@router.get("/v1/programmes", response_model=list[ps.ProgrammeOut])
def list_programmes(
    user: Caller, request: Request, patient: Annotated[str | None, Query(max_length=100)] = None
) -> list[ps.ProgrammeOut]:
    """Your programmes (as patient), and as a clinician those you prescribed to patients linked now; ``patient``:
    one patient's only. Newest first, each in its current version."""
    return [_out(v) for v in pdb.programmes(_db(request), user, patient)]


@router.get("/v1/programmes/attention", response_model=list[ps.AttentionOut], responses=ERRORS)
def attention(
    user: Caller,
    request: Request,
    day: Day = None,
    everyone: Annotated[
        bool, Query(alias="all", description="list every patient, not only those needing attention")
    ] = False,
) -> list[ps.AttentionOut]:
    """A clinician's patients needing attention on a day: an active programme with missed sessions this week,
    an exercise whose scores fell, or high pain in the last session (the rules: ``posecoach.service.adherence``)."""
    today = _today(day)
    try:
        loaded = sdb.clinician_programmes(_db(request), user)
    except pdb.Refused as exc:
        raise _error(exc) from None
    patients: dict[str, list[ps.AttentionProgramme]] = {}
    for v, versions, sessions in sorted(loaded, key=lambda t: (t[0].patient, t[0].title)):
        reasons = adherence.attention(versions, sessions, today)
        if reasons or everyone:
            missed = adherence.missed_this_week(versions, sessions, today)[0] if reasons else 0
            patients.setdefault(v.patient, []).append(
                ps.AttentionProgramme(id=v.id, title=v.title, missed_this_week=missed, reasons=reasons)
            )
    return [ps.AttentionOut(patient=name, programmes=progs) for name, progs in patients.items()]


CSV_COLUMNS = [
    "patient",
    "programme",
    "programme_id",
    "session_id",
    "client_id",
    "version",
    "day",
    "started_at",
    "finished_at",
    "complete",
    "pain",
    "difficulty",
    "exercise",
    "item_id",
    "sets_prescribed",
    "sets_done",
    "reps_prescribed",
    "hold_s",
    "reps_done",
    "scores",
    "mean_score",
    "rom_deg",
]


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @) is quoted with an apostrophe."""
    text = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/v1/programme-sessions.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per exercise of each session"}, **NOT_FOUND},
)
def sessions_csv(
    user: Caller,
    request: Request,
    patient: Annotated[str | None, Query(max_length=100, description="default: you")] = None,
) -> Response:
    """Every programme session of a patient (you, or a patient who accepted your care) as CSV: one row per
    exercise done (a session without any: one row), oldest first."""
    db = _db(request)
    name = patient or user.name
    if care_db.readable_user(db, user, name) is None:
        raise _missing("patient")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = sdb.patient_sessions(db, user, name)
    for v, s in rows:
        items = {i.key: i for i in pdb.programme(db, user, v.id, s.row.version).items}
        r = s.row
        head = [
            v.patient,
            v.title,
            v.id,
            r.id,
            r.client_id,
            r.version,
            r.day,
            r.started_at.isoformat() + "Z",
            r.finished_at.isoformat() + "Z",
            "yes" if r.complete else "no",
            r.pain,
            r.difficulty,
        ]
        if not s.exercises:
            writer.writerow([_cell(c) for c in head + [None] * 10])
        for d, guide_name in s.exercises:
            item, scores = items.get(d.item_key), json.loads(d.scores)
            writer.writerow(
                [
                    _cell(c)
                    for c in [
                        *head,
                        guide_name,
                        d.item_key,
                        item.sets if item else None,
                        d.sets_done,
                        item.reps if item else None,
                        item.hold_s if item else None,
                        d.reps_done,
                        " ".join(f"{x:g}" for x in scores),
                        round(sum(scores) / len(scores), 2) if scores else None,
                        d.rom_deg,
                    ]
                ]
            )
    if rows:
        audit.record_read(db, user, rows[0][0].patient_id, "programme_sessions", None, **audit.origin(request))
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sessions-{name}.csv"'},
    )


@router.get(
    "/v1/programmes/{programme_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the progress report"},
               **NOT_FOUND, 422: {"model": Problem}},
)
def progress_report(
    programme_id: ProgrammeId,
    user: Caller,
    request: Request,
    first: Annotated[date | None, Query(alias="from", ge=ps.FIRST_DAY, le=ps.LAST_DAY,
                                        description="the period's first day (default: the programme's start)")] = None,
    last: Annotated[date | None, Query(alias="to", ge=ps.FIRST_DAY, le=ps.LAST_DAY,
                                       description="the period's last day (default: today, UTC)")] = None,
) -> Response:
    """The patient's progress report on the programme over a period, as PDF: sessions per week against the
    prescription, each exercise's score and range of motion over time, and the tables behind them (the figures of
    ``/adherence`` on the period's last day). For the patient and their clinician."""
    from posecoach.service.progress_pdf import Period, write_progress_pdf

    try:
        v, versions, sessions = sdb.figures(_db(request), user, programme_id)
    except pdb.NotFound as exc:
        raise _error(exc) from None
    period = Period(first or v.start_date, last or _today(None))
    if period.first > period.last:
        raise HTTPException(422, f"the period ends ({period.last}) before it starts ({period.first})")
    _read(request, user, v, "programme_report")
    figures = adherence.adherence(versions, sessions, period.last)
    with tempfile.TemporaryDirectory(prefix="posecoach-report-") as tmp:
        path = write_progress_pdf(pathlib.Path(tmp) / "report.pdf", patient=v.patient, programme=v.title, period=period,
                                  adherence=figures, sessions=sessions, made_on=_today(None),
                                  clinician=v.clinician)
        data = path.read_bytes()
    name = f"progress-{v.patient}-{period.first.isoformat()}-{period.last.isoformat()}.pdf"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition("attachment", name)})


@router.get("/v1/programmes/{programme_id}", response_model=ps.ProgrammeOut, responses=NOT_FOUND)
def get_programme(programme_id: ProgrammeId, user: Caller, request: Request) -> ps.ProgrammeOut:
    try:
        return _out(pdb.programme(_db(request), user, programme_id))
    except pdb.NotFound as exc:
        raise _error(exc) from None


@router.put("/v1/programmes/{programme_id}", response_model=ps.ProgrammeOut, responses=ERRORS)
def edit_programme(
    programme_id: ProgrammeId, body: ps.ProgrammeEdit, user: Caller, request: Request
) -> ps.ProgrammeOut:
    """Its clinician edits a programme: a new version; the old ones stay readable. Keep an exercise's ``id`` to
    keep its history. 409: ``version`` is not the current one (someone edited it meanwhile)."""
    try:
        return _out(
            pdb.edit(
                _db(request), user, programme_id, body.title, body.start_date, body.end_date, _specs(body), body.version
            )
        )
    except PROBLEMS as exc:
        raise _error(exc) from None


@router.get("/v1/programmes/{programme_id}/versions", response_model=list[ps.ProgrammeOut], responses=NOT_FOUND)
def list_versions(programme_id: ProgrammeId, user: Caller, request: Request) -> list[ps.ProgrammeOut]:
    """Every version of a programme, newest first."""
    try:
        return [_out(v) for v in pdb.versions(_db(request), user, programme_id)]
    except pdb.NotFound as exc:
        raise _error(exc) from None


@router.get("/v1/programmes/{programme_id}/versions/{number}", response_model=ps.ProgrammeOut, responses=NOT_FOUND)
def get_version(
    programme_id: ProgrammeId, number: Annotated[int, Path(ge=1, le=1_000_000)], user: Caller, request: Request
) -> ps.ProgrammeOut:
    try:
        return _out(pdb.programme(_db(request), user, programme_id, number))
    except pdb.NotFound as exc:
        raise _error(exc) from None


@router.get("/v1/programmes/{programme_id}/today", response_model=ps.TodayOut, responses=NOT_FOUND)
def today(programme_id: ProgrammeId, user: Caller, request: Request, day: Day = None) -> ps.TodayOut:
    """Today's session: each exercise of the current version, due or not and why (the rule:
    ``posecoach.service.adherence``: by its frequency a week and the sessions done this week)."""
    try:
        v, _versions, sessions = sdb.figures(_db(request), user, programme_id)
    except pdb.NotFound as exc:
        raise _error(exc) from None
    current = next(x for x in _versions if x.number == v.current_version)
    when = _today(day)
    return ps.TodayOut(
        programme_id=v.id,
        title=v.title,
        date=when,
        due=[
            ps.DueOut(
                item=_item(d.item),
                due=d.due,
                done_today=d.done_today,
                done_this_week=d.done_this_week,
                target_this_week=d.target_this_week,
                reason=d.reason,
            )
            for d in adherence.due_today(current, sessions, when)
        ],
    )


@router.post(
    "/v1/programmes/{programme_id}/sessions",
    response_model=ps.SessionOut,
    status_code=201,
    responses={**ERRORS, 200: {"model": ps.SessionOut, "description": "sent before: the stored session"}},
)
def record_session(programme_id: ProgrammeId, body: ps.SessionIn, user: Caller, request: Request) -> JSONResponse:
    """The patient records a session (complete or not). Idempotent by ``client_id``: sending the same session
    again (after a lost connection) stores nothing new and answers 200 with the session stored first."""
    spec = sdb.SessionSpec(
        client_id=body.client_id,
        started_at=body.started_at,
        finished_at=body.finished_at,
        complete=body.complete,
        pain=body.pain,
        difficulty=body.difficulty,
        version=body.version,
        day=body.day,
        exercises=tuple(
            sdb.DoneSpec(d.item_id, d.sets_done, d.reps_done, tuple(d.scores), d.rom_deg) for d in body.exercises
        ),
    )
    try:
        stored, created = sdb.record(_db(request), user, programme_id, spec)
    except PROBLEMS as exc:
        raise _error(exc) from None
    return JSONResponse(
        _session(stored).model_dump(mode="json"), status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


@router.get("/v1/programmes/{programme_id}/sessions", response_model=list[ps.SessionOut], responses=NOT_FOUND)
def list_sessions(programme_id: ProgrammeId, user: Caller, request: Request) -> list[ps.SessionOut]:
    """The sessions recorded for a programme, oldest first."""
    try:
        v, found = sdb.sessions(_db(request), user, programme_id)
    except pdb.NotFound as exc:
        raise _error(exc) from None
    _read(request, user, v, "programme_sessions")
    return [_session(s) for s in found]


@router.get("/v1/programmes/{programme_id}/adherence", response_model=ps.AdherenceOut, responses=NOT_FOUND)
def get_adherence(programme_id: ProgrammeId, user: Caller, request: Request, day: Day = None) -> ps.AdherenceOut:
    """Sessions done against prescribed, per week and to date; per exercise its completion and its score and
    range of motion over time; why the patient needs attention (the rules: ``posecoach.service.adherence``)."""
    try:
        v, versions, sessions = sdb.figures(_db(request), user, programme_id)
    except pdb.NotFound as exc:
        raise _error(exc) from None
    _read(request, user, v, "programme_adherence")
    when = _today(day)
    a = adherence.adherence(versions, sessions, when)
    return ps.AdherenceOut(
        programme_id=v.id,
        title=v.title,
        patient=v.patient,
        date=when,
        prescribed=a.prescribed,
        done=a.done,
        rate=a.rate,
        missed_this_week=adherence.missed_this_week(versions, sessions, when)[0],
        attention=adherence.attention(versions, sessions, when),
        weeks=[
            ps.WeekOut(start=w.start, prescribed=w.prescribed, expected=w.expected, done=w.done, complete=w.complete)
            for w in a.weeks
        ],
        exercises=[
            ps.ExerciseAdherenceOut(
                item=_item(e.item),
                current=e.current,
                prescribed=e.prescribed,
                done=e.done,
                completion=e.completion,
                mean_score=e.mean_score,
                mean_rom_deg=e.mean_rom_deg,
                points=[
                    ps.PointOut(
                        day=p.day,
                        session_id=p.session_id,
                        sets_done=p.sets_done,
                        reps_done=p.reps_done,
                        score=None if p.score is None else round(p.score, 2),
                        rom_deg=p.rom_deg,
                    )
                    for p in e.points
                ],
            )
            for e in a.exercises
        ],
    )
