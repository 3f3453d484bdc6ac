"""Reports: the versioned pydantic schemas every analysis returns (one JSON schema each, in ``schemas/``), their
shared header (`model`), and CSV tables of them (`tables`). Drawing them is `posecoach.render`'s."""
