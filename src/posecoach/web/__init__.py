"""The PoseCoach web app: pages served by the same FastAPI process as the REST API.

Plain ES modules and CSS under ``static/`` (no CDN, no Node build step): ``index.html`` loads ``app.js``,
which signs in with an API key, routes ``#/<page>`` to ``pages/<page>.js`` and talks to the REST API
through ``api.js``. The WebSocket that answers webcam frames with landmarks and coaching is the service's
(`posecoach.service.live`): pages depend on the API, never the other way round.
"""

from posecoach.web.routes import router

__all__ = ["router"]
