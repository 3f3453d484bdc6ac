# PoseCoach service image: `posecoach serve` (REST API + in-process jobs). Configure with POSECOACH_* variables
# (README, "The PoseCoach service"); data (SQLite, uploads, results) in the /data volume by default.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POSECOACH_DATA_DIR=/data

# OpenCV and MediaPipe load libGL / GLib at import time
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY src ./src
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 posecoach \
    && mkdir -p /data && chown posecoach /data
USER posecoach
# the pose models, and the repetition counter's compiled loop in the user's Numba cache (not on the first request)
RUN posecoach models obtain && python -c "import posecoach.analysis.sweep"

VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"
CMD ["posecoach", "serve", "--host", "0.0.0.0", "--port", "8000"]
