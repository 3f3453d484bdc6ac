"""Errors a user can act on. The CLI prints their message as one line; the service maps them to 4xx."""

from __future__ import annotations


class PoseCoachError(Exception):
    """Base class: the message is written for the user, one line, saying what to do."""


class InputError(PoseCoachError):
    """The input (video, image, file) cannot be used: missing, unreadable, corrupt or unsupported."""


class ModelError(PoseCoachError):
    """A pose model file is missing or does not match its published checksum."""
