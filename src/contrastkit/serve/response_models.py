"""What the service answers, as pydantic models (they generate the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorAnswer(BaseModel):
    """Every refusal: a one-line message and the HTTP status (4xx)."""

    error: str
    status: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorAnswer, "description": what}
    for status, what in (
        (401, "A missing or wrong X-API-Key header (when the service has a key)."),
        (404, "An id the index does not hold, an unknown user."),
        (413, "A body, image, batch, text or k above its limit."),
        (415, "A Content-Type the endpoint does not read."),
        (422, "A malformed body or a value of the wrong type, empty or out of range."),
    )
}
"""The error answers of the query endpoints, for their OpenAPI `responses`."""


class LimitsInfo(BaseModel):
    """The per-request limits a client must stay under."""

    max_upload_bytes: int
    max_batch: int
    max_k: int


class Health(BaseModel):
    """Liveness and what the service holds."""

    status: str = "ok"
    title: str = Field(description="The run's name.")
    backend: str = Field(description="onnx or torch.")
    index: str = Field(description="The index served (a named index, or the run's data).")
    items: int = Field(description="Rows in the index.")
    dim: int = Field(description="Embedding dimension.")
    takes: list[str] = Field(description="The query kinds the run reads: image, text, row.")
    thumbnails: bool = Field(description="Whether /thumb/{id} has pictures.")
    videos: int = Field(0, description="Videos of an index of video frames (0: none).")
    api_key_required: bool
    limits: LimitsInfo


class Embeddings(BaseModel):
    """One embedding per item of the request, in order."""

    embeddings: list[list[float]] = Field(description="Shape: (N, dim).")
    dim: int


class Hit(BaseModel):
    """One neighbour: its opaque id, cosine similarity, what it is, and its picture (image
    indexes)."""

    id: str
    score: float
    shown: str | None = Field(
        description="What the item is: the sentence, the table row's id and leading columns, "
        "the image's file name in the run's data folder; null for an index that does not say."
    )
    thumbnail: str | None = Field(description="/thumb/{id}, or null for non-images.")


class SceneHit(BaseModel):
    """A scene of a video: a time range whose frames match the query (docs/video.md)."""

    video: str = Field(description="The video's file name.")
    video_url: str = Field(description="/video/{number}: the video, to play from `start`.")
    start: float = Field(description="Seconds from the video's first frame.")
    end: float
    score: float = Field(description="The best frame's cosine similarity.")
    best: float = Field(description="The best frame's time, in seconds.")
    id: str = Field(description="The best frame's id.")
    thumbnail: str = Field(description="/thumb/{id}: the best frame (JPEG).")


class Hits(BaseModel):
    """Neighbours, best first; for an index of video frames, its scenes best first too
    (the results are then their best frames)."""

    results: list[Hit]
    count: int
    scenes: list[SceneHit] | None = None


class RecommendedItem(BaseModel):
    """One recommended item: its id in the run's data, its public id and score."""

    item: str
    id: str
    score: float


class Recommendation(BaseModel):
    """A user's recommended items, best first."""

    user: str
    results: list[RecommendedItem]
    count: int
