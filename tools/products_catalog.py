"""Products agent, catalogue side: the product and variant models every product tool
returns, creating and listing products, and the ranked search.

tools/products.py imports this module first so that these fixed paths (/products/search)
are registered before /products/{product_id}.
"""

import re
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, func, select

from core.text import ascii_fold
from db.base import as_utc, utc_now
from db.models import (
    Category,
    Grade,
    Product,
    ProductCondition,
    ProductStatus,
    ProductVariant,
)
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, contains, euros, get_or_404, paginate

ProductId = Annotated[int, Field(ge=1, description="Id of the product.")]
VariantId = Annotated[int, Field(ge=1, description="Id of the variant (one SKU).")]
CategoryId = Annotated[int, Field(ge=1, description="Id of the category.")]
Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length=120,
        description="URL name, lowercase words joined by dashes, e.g. 'apple-iphone-13'.",
    ),
]


class VariantIn(BaseModel):
    """One SKU of a new product."""

    model_config = ConfigDict(extra="forbid")

    sku: Annotated[
        str,
        Field(
            pattern=r"^[A-Z0-9][A-Z0-9._-]{2,63}$",
            description="Stock keeping unit, capitals, digits and dashes, e.g. APP-IP13-128-BLK-A.",
        ),
    ]
    ean: Annotated[
        str | None,
        Field(pattern=r"^(\d{8}|\d{12,14})$", description="Barcode (EAN-13, EAN-8, UPC, GTIN)."),
    ] = None
    attributes: Annotated[
        str, Field(max_length=200, description="e.g. '128 GB · Black · Grade A'.")
    ] = ""
    grade: Annotated[
        Grade | None, Field(description="Cosmetic grade A, B or C; refurbished products only.")
    ] = None
    price_cents: Annotated[int, Field(description="Selling price including VAT, in cents.")]
    cost_cents: Annotated[
        int, Field(ge=0, le=100_000_000, description="Purchase cost excluding VAT, in cents.")
    ]
    weight_grams: Annotated[int, Field(gt=0, le=500_000, description="Shipping weight.")]
    name: Annotated[
        str | None,
        Field(min_length=2, max_length=200, description="Default: product name + attributes."),
    ] = None


class VariantOut(BaseModel):
    id: int
    sku: str
    ean: str | None
    name: str
    attributes: str
    grade: Grade | None
    price_cents: int
    cost_cents: int
    weight_grams: int
    is_active: bool


class ProductOut(BaseModel):
    id: int
    name: str
    slug: str
    brand: str
    description: str
    category_id: int
    category: str
    condition: ProductCondition
    status: ProductStatus
    vat_rate_bp: int
    warranty_months: int
    created_at: datetime
    updated_at: datetime | None
    variants: list[VariantOut]


class ProductSummary(BaseModel):
    id: int
    name: str
    brand: str
    category_id: int
    condition: ProductCondition
    status: ProductStatus
    variants: int
    min_price_cents: int | None
    max_price_cents: int | None


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text)).strip("-")[:120].strip("-")


def gtin_valid(code: str) -> bool:
    """The GS1 check digit: weights 3 and 1 alternating from the right, before the last."""
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def check_price(price_cents: int, cost_cents: int, sku: str, field: str) -> None:
    """Refuse negative prices and prices more than 50% below cost."""
    if price_cents < 0:
        raise InvalidInput(f"a price cannot be negative (got {price_cents} cents)", field=field)
    if price_cents * 2 < cost_cents:
        raise Conflict(
            f"{euros(price_cents)} for {sku} is more than 50% below its cost of "
            f"{euros(cost_cents)}; the lowest allowed price is {euros((cost_cents + 1) // 2)}",
            field=field,
            code="price_below_cost",
        )


def flush_unique(ctx: ToolContext, what: str) -> None:
    """Flush, turning a unique-constraint race with a concurrent request into a Conflict."""
    try:
        ctx.session.flush()
    except sa.exc.IntegrityError as error:
        raise Conflict(f"{what} was just created by someone else; look it up and retry") from error


def _variant_out(variant: ProductVariant) -> VariantOut:
    return VariantOut.model_validate(variant, from_attributes=True)


def product_out(ctx: ToolContext, product: Product) -> ProductOut:
    category = ctx.session.get(Category, product.category_id)
    variants = ctx.session.exec(
        select(ProductVariant)
        .where(ProductVariant.product_id == product.id)
        .order_by(col(ProductVariant.id))
    ).all()
    return ProductOut(
        id=product.id or 0,
        name=product.name,
        slug=product.slug,
        brand=product.brand,
        description=product.description,
        category_id=product.category_id,
        category=category.name if category else "",
        condition=product.condition,
        status=product.status,
        vat_rate_bp=product.vat_rate_bp,
        warranty_months=product.warranty_months,
        created_at=as_utc(product.created_at),
        updated_at=as_utc(product.updated_at) if product.updated_at else None,
        variants=[_variant_out(v) for v in variants],
    )


NO_VARIANTS: tuple[int, int | None, int | None] = (0, None, None)


def _summaries(ctx: ToolContext, products: list[Product]) -> list[ProductSummary]:
    ids = [p.id for p in products]
    stats: dict[int | None, tuple[int, int | None, int | None]] = {
        pid: (count, low, high)
        for pid, count, low, high in ctx.session.exec(
            select(
                ProductVariant.product_id,
                func.count(),
                func.min(ProductVariant.price_cents),
                func.max(ProductVariant.price_cents),
            )
            .where(col(ProductVariant.product_id).in_(ids))
            .group_by(col(ProductVariant.product_id))
        ).all()
    }
    return [
        ProductSummary(
            id=p.id or 0,
            name=p.name,
            brand=p.brand,
            category_id=p.category_id,
            condition=p.condition,
            status=p.status,
            variants=stats.get(p.id, NO_VARIANTS)[0],
            min_price_cents=stats.get(p.id, NO_VARIANTS)[1],
            max_price_cents=stats.get(p.id, NO_VARIANTS)[2],
        )
        for p in products
    ]


# -- catalogue writes --------------------------------------------------------------------


@tool(agent="products", path="/products", writes=True, roles=MANAGERS)
def create_product(
    ctx: ToolContext,
    name: Annotated[str, Field(min_length=2, max_length=200, description="Product name.")],
    brand: Annotated[str, Field(min_length=1, max_length=80, description="Brand.")],
    category_id: CategoryId,
    variants: Annotated[
        list[VariantIn],
        Field(min_length=1, max_length=200, description="Its SKUs, at least one."),
    ],
    description: Annotated[str, Field(max_length=5000, description="Product page text.")] = "",
    condition: Annotated[
        ProductCondition, Field(description="new, or refurbished (variants then carry a grade).")
    ] = ProductCondition.NEW,
    status: Annotated[
        ProductStatus, Field(description="active (on sale) or draft (not yet on sale).")
    ] = ProductStatus.ACTIVE,
    slug: Annotated[Slug | None, Field(description="URL name; default: from the name.")] = None,
    vat_rate_bp: Annotated[
        int, Field(ge=0, le=10000, description="VAT rate in basis points, 2000 = 20%.")
    ] = 2000,
    warranty_months: Annotated[
        int | None,
        Field(ge=0, le=120, description="Warranty; default 24 new, 12 refurbished."),
    ] = None,
) -> ProductOut:
    """Create a product with its variants (SKUs with EAN, attributes, grade, price, cost and
    weight). SKUs, EANs and the slug must be unused; refurbished variants need a grade A/B/C
    and new ones none; a price may not be more than 50% below cost."""
    get_or_404(ctx.session, Category, category_id, "category")
    if status == ProductStatus.ARCHIVED:
        raise InvalidInput("a new product is active or draft, not archived", field="status")
    slug = slug or slugify(name)
    if not slug:
        raise InvalidInput("the name gives no usable slug; pass one", field="slug")
    if ctx.session.exec(select(Product.id).where(Product.slug == slug)).first() is not None:
        raise Conflict(f"the slug {slug!r} is already used by another product", field="slug")
    skus: set[str] = set()
    eans: set[str] = set()
    for index, variant in enumerate(variants):
        where = f"variants.{index}"
        if variant.sku in skus:
            raise InvalidInput(f"SKU {variant.sku} appears twice", field=f"{where}.sku")
        skus.add(variant.sku)
        if variant.ean is not None:
            if not gtin_valid(variant.ean):
                raise InvalidInput(
                    f"EAN {variant.ean} has a wrong check digit", field=f"{where}.ean"
                )
            if variant.ean in eans:
                raise InvalidInput(f"EAN {variant.ean} appears twice", field=f"{where}.ean")
            eans.add(variant.ean)
        if condition == ProductCondition.REFURBISHED and variant.grade is None:
            raise InvalidInput(
                f"{variant.sku}: refurbished variants need a grade A, B or C",
                field=f"{where}.grade",
            )
        if condition == ProductCondition.NEW and variant.grade is not None:
            raise InvalidInput(
                f"{variant.sku}: new products carry no grade", field=f"{where}.grade"
            )
        check_price(variant.price_cents, variant.cost_cents, variant.sku, f"{where}.price_cents")
    taken = ctx.session.exec(
        select(ProductVariant.sku, ProductVariant.ean).where(
            sa.or_(col(ProductVariant.sku).in_(skus), col(ProductVariant.ean).in_(eans))
        )
    ).first()
    if taken is not None:
        used = taken[0] if taken[0] in skus else f"EAN {taken[1]}"
        raise Conflict(f"{used} already belongs to another variant", field="variants")
    now = utc_now()
    product = Product(
        name=name,
        slug=slug,
        brand=brand,
        description=description,
        category_id=category_id,
        condition=condition,
        status=status,
        vat_rate_bp=vat_rate_bp,
        warranty_months=warranty_months
        if warranty_months is not None
        else (12 if condition == ProductCondition.REFURBISHED else 24),
        created_at=now,
    )
    ctx.session.add(product)
    flush_unique(ctx, "a product with this slug")
    product_id = product.id
    assert product_id is not None
    for variant in variants:
        fields = variant.model_dump(exclude={"name"})
        label = variant.name or " ".join(filter(None, [name, variant.attributes]))[:200]
        ctx.session.add(ProductVariant(product_id=product_id, name=label, created_at=now, **fields))
    flush_unique(ctx, "a product with this slug, SKU or EAN")
    out = product_out(ctx, product)
    ctx.record(
        action="create_product",
        entity_type="product",
        entity_id=product.id,
        event="product_created",
        domain="products",
        after=out.model_dump(mode="json"),
    )
    return out


# -- reads with fixed paths (before /products/{product_id}) ------------------------------


@tool(agent="products", path="/products")
def list_products(
    ctx: ToolContext,
    category_id: Annotated[int | None, Field(ge=1, description="Only this category.")] = None,
    brand: Annotated[
        str | None, Field(min_length=1, max_length=80, description="Only this brand.")
    ] = None,
    status: Annotated[ProductStatus | None, Field(description="Only this status.")] = None,
    condition: Annotated[ProductCondition | None, Field(description="new or refurbished.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ProductSummary]:
    """List catalogue products with their number of variants and price range, filtered by
    category, brand (any case), status or condition. Use search_products to find by text."""
    statement = select(Product)
    if category_id is not None:
        statement = statement.where(Product.category_id == category_id)
    if brand is not None:
        statement = statement.where(func.lower(Product.brand) == brand.strip().lower())
    if status is not None:
        statement = statement.where(Product.status == status)
    if condition is not None:
        statement = statement.where(Product.condition == condition)
    rows, next_cursor = paginate(
        ctx.session, statement, Product.id, limit, cursor, descending=False
    )
    return Page(items=_summaries(ctx, rows), next_cursor=next_cursor)


class SearchHit(ProductSummary):
    match: str = Field(description="exact_code, sku_or_name, name, words or description.")
    matched_sku: str | None = Field(description="The variant whose SKU or EAN matched, if any.")


MATCHES = {0: "exact_code", 1: "sku_or_name", 2: "name", 3: "words", 4: "description"}


def _like(column: Any, text: str, *, prefix: bool = False) -> Any:
    return contains(func.lower(column), text, prefix=prefix)


@tool(agent="products", path="/products/search")
def search_products(
    ctx: ToolContext,
    query: Annotated[
        str, Field(min_length=2, max_length=100, description="Name, SKU, EAN or words.")
    ],
    status: Annotated[ProductStatus | None, Field(description="Only this status.")] = None,
    limit: Limit = 20,
    cursor: Annotated[
        int | None,
        Field(ge=0, description="Rank position to continue from: the previous next_cursor."),
    ] = None,
) -> Page[SearchHit]:
    """Find products by name, SKU, EAN or words of their description, ignoring case. Ranked:
    exact SKU or EAN first, then SKU prefix or exact name, name containing the query, all
    words in name/brand/attributes, all words in the description."""
    text = query.strip().lower()
    words = text.split()
    if len(text) < 2:
        raise InvalidInput("search for at least 2 characters", field="query")

    def everywhere(word: str, *, description: bool) -> Any:
        columns = [Product.name, Product.brand, ProductVariant.sku, ProductVariant.attributes]
        if description:
            columns.append(Product.description)
        return sa.or_(*(_like(c, word) for c in columns))

    rank = sa.case(
        (
            sa.or_(
                func.lower(ProductVariant.sku) == text, col(ProductVariant.ean) == query.strip()
            ),
            0,
        ),
        (sa.or_(_like(ProductVariant.sku, text, prefix=True), func.lower(Product.name) == text), 1),
        (_like(Product.name, text), 2),
        (sa.and_(*(everywhere(w, description=False) for w in words)), 3),
        (sa.and_(*(everywhere(w, description=True) for w in words)), 4),
        else_=None,
    ).label("rank")
    inner: Any = select(col(Product.id).label("pid"), rank).select_from(
        sa.outerjoin(Product, ProductVariant, ProductVariant.product_id == Product.id)  # type: ignore[arg-type]
    )
    if status is not None:
        inner = inner.where(Product.status == status)
    hits = inner.subquery()
    best = func.min(hits.c.rank)
    offset = cursor or 0
    ranked = ctx.session.exec(
        select(hits.c.pid, best)
        .where(hits.c.rank.is_not(None))
        .group_by(hits.c.pid)
        .order_by(best, hits.c.pid)
        .offset(offset)
        .limit(limit + 1)
    ).all()
    more = len(ranked) > limit
    ranked = ranked[:limit]
    products = {
        p.id: p
        for p in ctx.session.exec(
            select(Product).where(col(Product.id).in_([pid for pid, _ in ranked]))
        ).all()
    }
    summaries = {s.id: s for s in _summaries(ctx, list(products.values()))}
    matched: dict[int, str] = {}
    for variant in ctx.session.exec(
        select(ProductVariant).where(
            col(ProductVariant.product_id).in_([pid for pid, r in ranked if r <= 1])
        )
    ).all():
        sku = variant.sku.lower()
        if sku == text or variant.ean == query.strip():
            matched[variant.product_id] = variant.sku
        elif sku.startswith(text):
            matched.setdefault(variant.product_id, variant.sku)
    items = [
        SearchHit(**summaries[pid].model_dump(), match=MATCHES[r], matched_sku=matched.get(pid))
        for pid, r in ranked
    ]
    return Page(items=items, next_cursor=offset + limit if more else None)
