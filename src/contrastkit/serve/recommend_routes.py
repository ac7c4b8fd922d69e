"""`POST /recommend`: the items a recommender run scores highest for a user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from contrastkit.errors import UserError
from contrastkit.modalities.recommendations import Recommendations
from contrastkit.serve.dependencies import ServiceDep, authorised, json_only
from contrastkit.serve.ids import item_id
from contrastkit.serve.limits import DEFAULT_K, NOT_FOUND, UNPROCESSABLE, RequestError, preview
from contrastkit.serve.request_models import RecommendJson, body_schema
from contrastkit.serve.response_models import ERROR_RESPONSES, Recommendation, RecommendedItem

router = APIRouter(dependencies=[Depends(authorised)], responses=ERROR_RESPONSES)


def recommendations_of(service: ServiceDep) -> Recommendations:
    """The run's users and items embedded; 422 when the run is not a recommender."""
    if service.recommendations is None:
        raise RequestError(
            UNPROCESSABLE, "this run is not a recommender (method two_tower on interactions data)"
        )
    return service.recommendations


@router.post("/recommend", openapi_extra=body_schema(RecommendJson, images=False))
async def recommend(
    table: Annotated[Recommendations, Depends(recommendations_of)],
    body: Annotated[RecommendJson, Depends(json_only(RecommendJson))],
    service: ServiceDep,
) -> Recommendation:
    """The k items a recommender run scores highest for a user, among the items the user
    has no interaction with (JSON `{"user": ..., "k": K}`)."""
    user = str(body.user)
    k = service.limits.check_k(DEFAULT_K if body.k is None else body.k)
    try:
        items = table.top_k(user, k, what="user")
    except UserError:
        raise RequestError(NOT_FOUND, f"user: no user {preview(user)} in the run's data") from None
    results = [RecommendedItem(item=x.item, id=item_id(x.item), score=x.score) for x in items]
    return Recommendation(user=user, results=results, count=len(results))
