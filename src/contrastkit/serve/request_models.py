"""The JSON bodies the service takes, as pydantic models: they validate a request and
generate its OpenAPI schema.

Each field is validated by the check that gives its one-line message and status
(`contrastkit.serve.limits`: 422 for a wrong type or an empty value, 413 above a limit;
`contrastkit.serve.ids`: 422 for a malformed id), with the service's `Limits` passed as
the validation context (`read_json_body`). Before the fields, the body must be an object
with known keys only and exactly one query (`QUERIES`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, model_validator
from pydantic.json_schema import WithJsonSchema

from contrastkit.serve.engine import QueryKind
from contrastkit.serve.ids import ID_PATTERN, check_id
from contrastkit.serve.limits import UNPROCESSABLE, Limits, RequestError, preview


def _limits(info: ValidationInfo) -> Limits:
    context = info.context
    if not isinstance(context, dict) or not isinstance(context.get("limits"), Limits):
        raise TypeError("validate request bodies with read_json_body (limits in the context)")
    return context["limits"]


def _text(value: Any, info: ValidationInfo) -> str:
    return _limits(info).check_text(value, name=str(info.field_name))


def _texts(value: Any, info: ValidationInfo) -> list[str]:
    limits = _limits(info)
    texts = limits.check_batch(value, name="texts")
    return [limits.check_text(t, name=f"texts[{i}]") for i, t in enumerate(texts)]


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestError(
            UNPROCESSABLE, f"{name}: expected an object of columns, got {preview(value)}"
        )
    return value


def _row(value: Any) -> dict[str, Any]:
    return _object(value, "row")


def _rows(value: Any, info: ValidationInfo) -> list[dict[str, Any]]:
    rows = _limits(info).check_batch(value, name="rows")
    return [_object(row, f"rows[{i}]") for i, row in enumerate(rows)]


def _id(value: Any) -> str:
    return check_id(value, name="id")


def _k(value: Any, info: ValidationInfo) -> int:
    return _limits(info).check_k(value)


Text = Annotated[
    str | None,
    BeforeValidator(_text),
    WithJsonSchema({"type": "string", "minLength": 1, "description": "A text."}),
]
Texts = Annotated[
    list[str] | None,
    BeforeValidator(_texts),
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1}),
]
Row = Annotated[
    dict[str, Any] | None,
    BeforeValidator(_row),
    WithJsonSchema({"type": "object", "description": "Column -> value (missing: imputed)."}),
]
Rows = Annotated[
    list[dict[str, Any]] | None,
    BeforeValidator(_rows),
    WithJsonSchema({"type": "array", "items": {"type": "object"}, "minItems": 1}),
]
ItemId = Annotated[
    str | None,
    BeforeValidator(_id),
    WithJsonSchema({"type": "string", "pattern": ID_PATTERN.pattern, "description": "An id."}),
]
K = Annotated[
    int | None,
    BeforeValidator(_k),
    WithJsonSchema({"type": "integer", "minimum": 1, "description": "How many results."}),
]
User = Annotated[
    str | None,
    BeforeValidator(_text),
    WithJsonSchema({"type": "string", "description": "A user id of the run's data."}),
]


class JsonBody(BaseModel):
    """A JSON object with known keys only and exactly one of `QUERIES`."""

    model_config = ConfigDict(extra="forbid")
    QUERIES: ClassVar[tuple[str, ...]]

    @model_validator(mode="before")
    @classmethod
    def _one_query(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise RequestError(UNPROCESSABLE, f"expected a JSON object, got {preview(value)}")
        allowed = tuple(cls.model_fields)
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise RequestError(
                UNPROCESSABLE,
                f"unknown key {preview(unknown[0])} (expected: {', '.join(allowed)})",
            )
        if sum(key in value for key in cls.QUERIES) != 1:
            raise RequestError(UNPROCESSABLE, f"give exactly one of {', '.join(cls.QUERIES)}")
        return value

    def given(self, key: str) -> bool:
        """Whether the body holds `key`."""
        return key in self.model_fields_set


class EmbedJson(JsonBody):
    """Texts or table rows to embed."""

    QUERIES = ("texts", "rows")
    texts: Texts = None
    rows: Rows = None

    def query(self) -> tuple[QueryKind, list[Any]]:
        """The query kind and its items."""
        return ("text", self.texts) if self.texts is not None else ("row", self.rows or [])


class SearchJson(JsonBody):
    """A text, a table row or an indexed item's id to search with, and how many neighbours."""

    QUERIES = ("text", "row", "id")
    text: Text = None
    row: Row = None
    id: ItemId = None
    k: K = None

    def query(self) -> tuple[QueryKind, list[Any]]:
        """The query kind and its one item (not for a search by id)."""
        return ("text", [self.text]) if self.text is not None else ("row", [self.row])


class RecommendJson(JsonBody):
    """A user of the run's data, and how many items to recommend."""

    QUERIES = ("user",)
    user: User = None
    k: K = None


Body = TypeVar("Body", bound=JsonBody)


def read_json_body(model: type[Body], value: Any, limits: Limits) -> Body:
    """`value` (parsed JSON) validated as `model` under `limits`.

    Raises:
        RequestError: the first check that fails (its status and message).
    """
    return model.model_validate(value, context={"limits": limits})


def body_schema(model: type[JsonBody], *, images: bool) -> dict[str, Any]:
    """The OpenAPI `requestBody` of an endpoint that reads `model` as JSON (and, with
    `images`, also an image file as the raw body)."""
    content: dict[str, Any] = {"application/json": {"schema": model.model_json_schema()}}
    if images:
        content["image/*"] = {"schema": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": content}}
