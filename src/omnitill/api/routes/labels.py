"""Barcode labels and shelf price tags, as SVG (one label) or a PDF sheet."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from omnitill.adapters.printing.label_pdf import label_sheet
from omnitill.api.deps import DbDep, require
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.labels.tags import LabelKind
from omnitill.services import labels as label_service
from omnitill.web.labels import render_label_svg

router = APIRouter(prefix="/api/v1", tags=["catalog"])

Reader = Annotated[Actor, Depends(require(Permission.CATALOG_READ))]


@router.get(
    "/labels",
    response_class=Response,
    summary="Barcode labels and shelf tags",
    responses={
        200: {"content": {"image/svg+xml": {}, "application/pdf": {}}},
        422: {"description": "`catalog.unknown_sku`, `labels.*`, `pricing.no_price`."},
    },
)
def get_labels(
    actor: Reader,
    db: DbDep,
    sku: Annotated[list[str], Query(description="One or more SKUs: sku=A&sku=B.")],
    kind: Annotated[LabelKind, Query(description="barcode sticker or shelf price tag")] = (
        LabelKind.BARCODE
    ),
    file_format: Annotated[
        Literal["svg", "pdf"], Query(alias="format", description="svg: one label; pdf: a sheet")
    ] = "svg",
    copies: Annotated[int, Query(description="Copies of each label on the PDF sheet.")] = 1,
    location: Annotated[str | None, Query(description="Store whose price and locale.")] = None,
) -> Response:
    """EAN-13 for a valid GTIN-13 barcode, else Code 128; shelf tags at the store's price."""
    if file_format == "svg" and len([s for s in sku if s.strip()]) > 1:
        code = "labels.one_per_svg"
        raise ValidationFailed(
            code,
            "an SVG holds one label: ask for format=pdf to get several",
            errors=[FieldError("sku", code, "one SKU with format=svg")],
        )
    labels = label_service.build_labels(
        db=db, actor=actor, skus=sku, kind=kind, location=location, copies=copies
    )
    if file_format == "pdf":
        return Response(label_sheet(labels, copies=copies), media_type="application/pdf")
    return Response(render_label_svg(labels[0]), media_type="image/svg+xml")
