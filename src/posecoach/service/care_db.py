"""The queries of care links (migration 0005): a clinician invites a patient by username, the patient accepts or
declines, either side ends the link. Only an accepted link lets the clinician read the patient's data
(`Database.visible_owners`), and the patient see the clinician's guides and posture models.

Nobody is linked without their consent: every link starts as the clinician's pending invitation. An admin is
never invited (an admin's account is for running the service, not for care), a clinician may be invited and
becomes a patient only by accepting, like anyone. Links are shown with usernames, never with user ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from posecoach.service import audit
from posecoach.service.db import ACCEPTED, PENDING, CareLink, Database, User, new_id, utcnow


class NotFound(LookupError):
    """No such user or link (or none the caller is a side of): 404."""


class Refused(PermissionError):
    """The caller may not do this (not a clinician, an admin as a patient, not the patient): 403."""


class Conflict(ValueError):
    """The link exists already, or would link someone with themself: 409."""


@dataclass(frozen=True)
class Link:
    """A care link as either side sees it: names only."""

    id: str
    clinician: str
    patient: str
    state: str  # pending / accepted
    created_at: datetime
    accepted_at: datetime | None


def _links(s: Session, *where: object) -> list[Link]:
    clinician, patient = aliased(User), aliased(User)
    query = (select(CareLink, clinician.name, patient.name)
             .join(clinician, clinician.id == CareLink.clinician_id).join(patient, patient.id == CareLink.patient_id)
             .where(*where).order_by(CareLink.created_at.desc(), CareLink.id))
    return [Link(link.id, c, p, link.state, link.created_at, link.accepted_at) for link, c, p in s.execute(query)]


def links(db: Database, user: User) -> list[Link]:
    """Every link and invitation ``user`` is a side of (as clinician or as patient), newest first."""
    with db.session() as s:
        return _links(s, or_(CareLink.clinician_id == user.id, CareLink.patient_id == user.id))


def invite(db: Database, clinician: User, patient_name: str) -> Link:
    """``clinician`` invites the user named ``patient_name``: a pending link, which gives no access until the
    patient accepts it."""
    if clinician.role != "clinician":
        raise Refused("only a clinician invites patients")
    try:
        with db.session() as s:
            patient = s.scalars(select(User).where(User.name == patient_name)).first()
            if patient is None:
                raise NotFound(f"no user named {patient_name!r}")
            if patient.id == clinician.id:
                raise Conflict("you cannot be your own patient")
            if patient.role == "admin":
                raise Refused("an administrator's account cannot be linked as a patient")
            existing = s.get(CareLink, (clinician.id, patient.id))
            if existing is not None:
                raise Conflict(f"{patient.name} is your patient already" if existing.state == ACCEPTED
                               else f"{patient.name} has your invitation already")
            link = CareLink(id=new_id(), clinician_id=clinician.id, patient_id=patient.id, state=PENDING,
                            created_at=utcnow())
            s.add(link)
            s.flush()
            audit.record(s, audit.CARE_INVITE, actor=clinician, subject=patient, object_type="care_link",
                         object_id=link.id)
            return Link(link.id, clinician.name, patient.name, PENDING, link.created_at, None)
    except IntegrityError:  # the same invitation, sent twice at once
        raise Conflict(f"{patient_name} has your invitation already") from None


def accept(db: Database, user: User, link_id: str) -> Link:
    """The patient accepts a clinician's invitation (accepting one accepted already changes nothing)."""
    with db.session() as s:
        link = s.scalars(select(CareLink).where(CareLink.id == link_id, or_(
            CareLink.clinician_id == user.id, CareLink.patient_id == user.id))).first()
        if link is None:
            raise NotFound("no such care link")
        if link.patient_id != user.id:
            raise Refused("only the patient accepts an invitation")
        if s.execute(update(CareLink).where(CareLink.id == link_id, CareLink.state == PENDING)
                     .values(state=ACCEPTED, accepted_at=utcnow())).rowcount:
            audit.record(s, audit.CARE_ACCEPT, actor=user, subject=user, object_type="care_link", object_id=link_id)
        return _links(s, CareLink.id == link_id)[0]


def end(db: Database, user: User, link_id: str) -> bool:
    """Either side ends a link: a patient declines an invitation or ends the care, a clinician withdraws an
    invitation or ends the care. False when ``user`` is no side of such a link."""
    with db.session() as s:
        link = s.scalars(select(CareLink).where(CareLink.id == link_id, or_(
            CareLink.clinician_id == user.id, CareLink.patient_id == user.id))).first()
        if link is None:
            return False
        audit.record(s, audit.CARE_END, actor=user, subject_id=link.patient_id, object_type="care_link",
                     object_id=link_id, subject_name=s.get(User, link.patient_id).name,  # type: ignore[union-attr]
                     detail=f"was {link.state}")
        s.delete(link)
        return True


def patients(db: Database, user: User) -> list[tuple[User, datetime | None]]:
    """The users whose data ``user`` may read besides their own, by name, with since when: a clinician's patients
    who accepted, everyone for an admin (since: None), nobody for a user."""
    with db.session() as s:
        if user.role == "admin":
            return [(u, None) for u in s.scalars(select(User).where(User.id != user.id).order_by(User.name))]
        if user.role != "clinician":
            return []
        query = (select(User, CareLink.accepted_at).join(CareLink, CareLink.patient_id == User.id)
                 .where(CareLink.clinician_id == user.id, CareLink.state == ACCEPTED).order_by(User.name))
        return [(u, since) for u, since in s.execute(query)]


def readable_user(db: Database, user: User, name: str) -> User | None:
    """The user named ``name`` if ``user`` may read their data (themself, a patient who accepted, anyone for an
    admin); None otherwise, as for a name that does not exist."""
    with db.session() as s:
        found = s.scalars(select(User).where(User.name == name)).first()
        if found is None:
            return None
        owners = db.visible_owners(s, user)
        return found if owners is None or found.id in owners else None
