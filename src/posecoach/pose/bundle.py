"""Assemble MediaPipe Tasks `.task` bundles from model files published in registry packages.

A `PoseLandmarker` bundle is a zip of ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``. The
landmark models published in npm ``@mediapipe/pose`` carry no TFLite metadata, which Tasks needs to know how
to normalise the input image; the lite, full and heavy landmark models share one input/output layout, so
the metadata of the official full bundle (input in [0, 1]: mean 0, std 255) is written into each of them.
This reproduces the official full bundle's landmarks exactly (tested).
"""

from __future__ import annotations

import io
import zipfile

import flatbuffers
import numpy as np

METADATA_NAME = "TFLITE_METADATA"
DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
# A fixed timestamp keeps the bundle byte-for-byte reproducible, so its sha256 can be checked.
_ZIP_DATE = (2023, 4, 28, 0, 45, 0)


def _schema():  # imported lazily: mediapipe is heavy to import
    from mediapipe.tasks.metadata import schema_py_generated

    return schema_py_generated


def read_metadata(model: bytes) -> bytes | None:
    """The TFLite metadata flatbuffer of a model, or None when it has none."""
    schema = _schema()
    m = schema.Model.GetRootAsModel(model, 0)
    for i in range(m.MetadataLength()):
        entry = m.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            return m.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None


def io_signature(model: bytes) -> list[tuple[str, tuple[int, ...]]]:
    """Shapes of the model's inputs then outputs (used to check two models can share metadata)."""
    schema = _schema()
    m = schema.Model.GetRootAsModel(model, 0)
    sg = m.Subgraphs(0)
    tensors = [sg.Tensors(sg.Inputs(i)) for i in range(sg.InputsLength())]
    tensors += [sg.Tensors(sg.Outputs(i)) for i in range(sg.OutputsLength())]
    return [(("in" if k < sg.InputsLength() else "out"), tuple(t.ShapeAsNumpy().tolist())) for k, t in
            enumerate(tensors)]


def with_metadata(model: bytes, metadata: bytes) -> bytes:
    """Return ``model`` with ``metadata`` attached as its TFLite metadata (replacing any it had)."""
    schema = _schema()
    obj = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    obj.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(obj.buffers) - 1
    obj.metadata = [m for m in (obj.metadata or []) if m.name not in (METADATA_NAME, METADATA_NAME.encode())]
    obj.metadata.append(entry)
    builder = flatbuffers.Builder(len(model) + len(metadata) + 1024)
    builder.Finish(obj.Pack(builder), b"TFL3")
    return bytes(builder.Output())


def split_bundle(task: bytes) -> tuple[bytes, bytes]:
    """(detector, landmark model) of a `.task` bundle; ValueError when it is not a pose bundle."""
    try:
        with zipfile.ZipFile(io.BytesIO(task)) as z:
            names = set(z.namelist())
            if not {DETECTOR_ENTRY, LANDMARKS_ENTRY} <= names:
                raise ValueError(f"not a PoseLandmarker bundle: it holds {sorted(names)}")
            return z.read(DETECTOR_ENTRY), z.read(LANDMARKS_ENTRY)
    except zipfile.BadZipFile:
        raise ValueError("not a PoseLandmarker bundle: not a zip file") from None


def make_bundle(detector: bytes, landmarks: bytes) -> bytes:
    """Zip the two models as a `.task` bundle, reproducibly."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, data in ((DETECTOR_ENTRY, detector), (LANDMARKS_ENTRY, landmarks)):
            z.writestr(zipfile.ZipInfo(name, date_time=_ZIP_DATE), data)
    return out.getvalue()


def build_landmarker_bundle(official_full_task: bytes, landmark_model: bytes) -> bytes:
    """A bundle with the official detector and ``landmark_model`` given the official full model's metadata."""
    detector, full_landmarks = split_bundle(official_full_task)
    metadata = read_metadata(full_landmarks)
    if metadata is None:
        raise ValueError("the reference full bundle has no landmark-model metadata")
    if io_signature(landmark_model) != io_signature(full_landmarks):
        raise ValueError("the landmark model's inputs/outputs differ from the full model's; cannot reuse metadata")
    return make_bundle(detector, with_metadata(landmark_model, metadata))
