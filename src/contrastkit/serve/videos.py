"""An index of video frames as the service answers it: scenes (time ranges, the best
frame's JPEG thumbnail) and the videos a page may play from a scene's start.

Only the videos the index lists are served, each by its number in that list
(`/video/{number}`): no path a client sends is ever opened, a listed file that is gone or is
not a regular file is a 404, and a video is streamed in parts (HTTP range requests, what an
HTML5 player asks for to start at a scene), never read into memory whole. A player cannot
send the `X-API-Key` header, so when the service has a key a video's URL carries a token,
an HMAC of the video's number under the key: the key itself never appears in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from contrastkit.index.scenes import FrameTable, Scene, frame_table, is_video_index, search_scenes
from contrastkit.index.store import NamedIndex
from contrastkit.index.thumbnails import read_thumbnail
from contrastkit.modalities.images.videos import VIDEOS_KEY
from contrastkit.serve.auth import UNAUTHORIZED
from contrastkit.serve.limits import NOT_FOUND, RequestError

MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
}


def video_token(api_key: str, number: int) -> str:
    """The token of video `number`'s URL under `api_key` (32 hex digits of HMAC-SHA256)."""
    mac = hmac.new(api_key.encode(), f"video:{number}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


@dataclass
class VideoShelf:
    """The frames, thumbnails and videos of a video index.

    Attributes:
        named: The index (`index/store.py`), its rows the sampled frames.
        videos: The video files it lists, in a fixed (sorted) order: a video's number.
    """

    named: NamedIndex
    videos: list[str]
    table: FrameTable = field(init=False)
    _numbers: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.table = frame_table(self.named)
        self._numbers = {video: n for n, video in enumerate(self.videos)}

    @classmethod
    def of(cls, named: NamedIndex) -> VideoShelf | None:
        """The shelf of `named`, or None when its rows are not video frames."""
        if not is_video_index(named.meta):
            return None
        return cls(named, sorted(str(v) for v in named.meta["info"][VIDEOS_KEY]))

    def scenes(self, query: np.ndarray, k: int) -> list[Scene]:
        """The k best scenes for one query embedding. Shape: (1, D)."""
        return search_scenes(self.named, query, k, table=self.table)

    def number(self, video: str) -> int:
        return self._numbers[video]

    def url(self, number: int, api_key: str | None) -> str:
        """Where the page plays video `number` (with its token when the service has a key)."""
        return f"/video/{number}" + (
            "" if api_key is None else f"?token={video_token(api_key, number)}"
        )

    def path(self, number: int, token: str | None, api_key: str | None) -> Path:
        """The file of video `number`, for a request carrying `token`.

        Raises:
            RequestError: 401 for a missing or wrong token (when the service has a key),
                404 for a number the index does not list or a file that is not there.
        """
        if api_key is not None:
            ok = token is not None and hmac.compare_digest(token, video_token(api_key, number))
            if not ok:
                raise RequestError(UNAUTHORIZED, "missing or wrong video token")
        if not 0 <= number < len(self.videos):
            raise RequestError(NOT_FOUND, f"video {number}: the index lists {len(self.videos)}")
        path = Path(self.videos[number])
        if not path.is_file():
            raise RequestError(NOT_FOUND, f"video {number} ({path.name}) is no longer there")
        return path

    def thumbnail(self, row: int) -> bytes | None:
        """Row `row`'s JPEG thumbnail, as the index keeps it."""
        return read_thumbnail(self.named.folder, row)
