"""`GET /video/{number}`: a video of the index of video frames, for the page's player.

Open like the page itself (an HTML5 player sends no `X-API-Key` header); when the service
has a key, the URL's token (`serve/videos.py`) stands for it. Answers HTTP range requests
(206 Partial Content), so a player starts at a scene without loading what comes before.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from contrastkit.serve.dependencies import ServiceDep
from contrastkit.serve.limits import NOT_FOUND, RequestError
from contrastkit.serve.response_models import ERROR_RESPONSES
from contrastkit.serve.videos import MEDIA_TYPES

router = APIRouter(responses=ERROR_RESPONSES)


@router.get(
    "/video/{number}",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}, "description": "The video file."}},
)
async def video(
    number: int,
    service: ServiceDep,
    token: Annotated[
        str | None, Query(description="Given with the scene (services with a key).")
    ] = None,
) -> FileResponse:
    """Video `number` of the index (as `/search` names it in a scene's `video_url`)."""
    shelf = service.catalog.videos
    if shelf is None:
        raise RequestError(NOT_FOUND, "this index holds no videos")
    path = shelf.path(number, token, service.api_key)
    media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=3600"})
