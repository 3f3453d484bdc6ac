"""PoseCoach model archives: one zip holding a JSON header and fitted scikit-learn objects in skops' format.

The posture classifier (`posecoach.analysis.posture.model_file`) and the fall model
(`posecoach.analysis.falls.model`) are saved this way: the header names the format and its version, the
PoseCoach, scikit-learn and skops versions that wrote it (`versions`) and whatever describes the model (its
features, labels, training); the fitted objects are ``.skops`` entries (`skops.io`): no pickle, and loading
builds only scikit-learn and numpy types plus an allowlist the caller gives (`load_skops`: anything else in a
file is refused before anything is built). `format_major` refuses a file of a newer major format version (a
newer minor one is read). Error messages name what the file should be (``what``, e.g. "posture model") and what
to do (``retrain``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from posecoach.core.atomic import atomic_path
from posecoach.core.version import __version__
from posecoach.errors import InputError


def versions() -> dict[str, str]:
    """The versions a header records: PoseCoach, scikit-learn and skops."""
    import sklearn
    import skops

    return {"posecoach_version": __version__, "sklearn_version": sklearn.__version__,
            "skops_version": skops.__version__}


def write(path: str | Path, header: str, meta: Mapping[str, Any], entries: Mapping[str, bytes]) -> Path:
    """Write the archive atomically: ``header`` (the JSON of ``meta``) first, then ``entries`` in their order."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(header, json.dumps(meta, indent=2))
            for name, data in entries.items():
                zf.writestr(name, data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def open_archive(path: Path, header: str, what: str) -> tuple[dict[str, Any], zipfile.ZipFile]:
    """The header's JSON and the open zip (the caller closes it); `InputError` for a missing, foreign or
    damaged file."""
    if not path.is_file():
        raise InputError(f"{path}: no such {what} file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a {what} (the file is not a PoseCoach model archive)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: damaged {what} ({exc})") from None
    try:
        if header not in zf.namelist():
            raise InputError(f"{path}: not a {what} (no {header} inside)")
        meta = json.loads(zf.read(header))
    except (zipfile.BadZipFile, json.JSONDecodeError, ValueError, OSError) as exc:
        zf.close()
        raise InputError(f"{path}: damaged {what} ({exc})") from None
    except InputError:
        zf.close()
        raise
    return meta, zf


@contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Inside: a header field or entry that is missing, of the wrong type or unreadable makes the file a damaged
    ``what`` (`InputError`); an `InputError` raised inside passes as it is."""
    try:
        yield
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: damaged {what} ({type(exc).__name__}: {exc})") from None


def entry(path: Path, zf: zipfile.ZipFile, name: str, what: str) -> bytes:
    """The bytes of the archive's entry ``name``; a file without it is not a ``what``."""
    if name not in zf.namelist():
        raise InputError(f"{path}: not a {what} (no {name} inside)")
    return zf.read(name)


def format_major(path: Path, meta: Any, fmt: str, current: str, what: str, retrain: str, oldest: int = 1) -> int:
    """The major format version of a header that names ``fmt``; a newer major than ``current``'s, or one older
    than ``oldest``, is refused."""
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != fmt:
        raise InputError(f"{path}: not a {what} (format {found!r}, expected {fmt!r})")
    version = str(meta.get("format_version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise InputError(f"{path}: unreadable {what} format version {version!r}") from None
    ours = int(current.split(".")[0])
    if major > ours:
        raise InputError(f"{path} was written by a newer PoseCoach ({meta.get('posecoach_version', '?')}, model "
                         f"format {version}); this one reads format {ours}.x: upgrade PoseCoach to use it")
    if major < oldest:
        raise InputError(f"{path}: {what} format {version} is no longer read; {retrain}")
    return major


def load_skops(path: Path, data: bytes, trusted: Iterable[str], what: str, retrain: str) -> Any:
    """The object of a ``.skops`` entry, refusing any type outside skops' defaults and ``trusted``."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
        unexpected = sorted(set(untrusted) - set(trusted))
        if unexpected:
            raise InputError(f"{path}: refused: its model holds types a {what} never has ({', '.join(unexpected)})")
        return skops.io.loads(data, trusted=untrusted)
    except InputError:
        raise
    except Exception as exc:  # skops raises many kinds on a damaged or foreign file
        raise InputError(f"{path}: unreadable model ({type(exc).__name__}: {exc}); {retrain}") from None
