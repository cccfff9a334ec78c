"""Tools of the products agent: categories, price changes, one product (get, update,
delete).

The catalogue side (create, list, search) lives in tools/products_catalog.py and
the analytics in tools/products_analytics.py. Both are imported first, so their fixed paths
(/products/search, /products/analytics) are registered before /products/{product_id}: routes
match in registration order, and the certified platform's search was shadowed for want of it.
"""

from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import SQLModel, col, func, select

from db.base import utc_now
from db.daily_sales import recount_category_orders
from db.models import Category, Product, ProductStatus, ProductVariant, StockLevel
from tools import products_analytics, products_catalog
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.products_catalog import (
    ProductId,
    ProductOut,
    Slug,
    VariantId,
    check_price,
    flush_unique,
    product_out,
    slugify,
)

__all__ = ["ProductOut", "products_analytics", "products_catalog"]


# -- categories ------------------------------------------------------------------------


class CategoryOut(BaseModel):
    id: int
    name: str
    slug: str
    parent_id: int | None
    description: str | None
    products: int = Field(description="Products in the category, any status.")
    active_products: int


@tool(agent="products", path="/categories")
def list_categories(
    ctx: ToolContext, limit: Limit = 50, cursor: Cursor = None
) -> Page[CategoryOut]:
    """List product categories with how many products each holds (all and active)."""
    rows, next_cursor = paginate(
        ctx.session, select(Category), Category.id, limit, cursor, descending=False
    )
    return Page(items=[_category_out(ctx, c) for c in rows], next_cursor=next_cursor)


def _category_out(ctx: ToolContext, category: Category) -> CategoryOut:
    total, active = ctx.session.exec(
        select(
            func.count(),
            func.count().filter(col(Product.status) == ProductStatus.ACTIVE),
        ).where(Product.category_id == category.id)
    ).one()
    return CategoryOut(
        id=category.id or 0,
        name=category.name,
        slug=category.slug,
        parent_id=category.parent_id,
        description=category.description,
        products=total,
        active_products=active,
    )


@tool(agent="products", path="/categories", writes=True, roles=MANAGERS)
def create_category(
    ctx: ToolContext,
    name: Annotated[str, Field(min_length=2, max_length=120, description="Category name.")],
    slug: Annotated[Slug | None, Field(description="URL name; default: from the name.")] = None,
    parent_id: Annotated[int | None, Field(ge=1, description="Parent category, if any.")] = None,
    description: Annotated[str | None, Field(max_length=2000, description="Shown text.")] = None,
) -> CategoryOut:
    """Create a product category, optionally under a parent. Name and slug must be unused."""
    if parent_id is not None:
        get_or_404(ctx.session, Category, parent_id, "category", lock=False)
    slug = slug or slugify(name)
    if not slug:
        raise InvalidInput("the name gives no usable slug; pass one", field="slug")
    clash = ctx.session.exec(
        select(Category).where(
            sa.or_(func.lower(Category.name) == name.strip().lower(), col(Category.slug) == slug)
        )
    ).first()
    if clash is not None:
        field = "name" if clash.name.lower() == name.strip().lower() else "slug"
        raise Conflict(f"category {clash.id} ({clash.name}) already has this {field}", field=field)
    category = Category(name=name.strip(), slug=slug, parent_id=parent_id, description=description)
    ctx.session.add(category)
    flush_unique(ctx, "a category with this name or slug")
    out = _category_out(ctx, category)
    ctx.record(
        action="create_category",
        entity_type="category",
        entity_id=category.id,
        event="category_created",
        domain="products",
        after=out.model_dump(mode="json"),
    )
    return out


# -- prices and one product ----------------------------------------------------------


class PriceChange(BaseModel):
    variant_id: int
    sku: str
    old_price_cents: int
    new_price_cents: int
    cost_cents: int
    margin_cents: int = Field(description="New price excluding VAT minus cost.")
    changed: bool


def _price_allowed(
    ctx: ToolContext, variant_id: int, price_cents: int, reason: str | None = None
) -> None:
    variant = get_or_404(ctx.session, ProductVariant, variant_id, "variant")
    check_price(price_cents, variant.cost_cents, variant.sku, "price_cents")


@tool(
    agent="products",
    path="/products/variants/{variant_id}/price",
    method="PATCH",
    writes=True,
    approval=True,
    roles=MANAGERS,
    precheck=_price_allowed,
)
def update_variant_price(
    ctx: ToolContext,
    variant_id: VariantId,
    price_cents: Annotated[int, Field(description="New price including VAT, in cents.")],
    reason: Annotated[
        str | None, Field(max_length=200, description="Why, kept in the audit log.")
    ] = None,
) -> PriceChange:
    """Change the selling price of one SKU. Audited with the old and new price. Refused when
    negative or more than 50% below the SKU's cost."""
    variant = get_or_404(ctx.session, ProductVariant, variant_id, "variant", lock=True)
    check_price(price_cents, variant.cost_cents, variant.sku, "price_cents")
    product = ctx.session.get(Product, variant.product_id)
    vat = product.vat_rate_bp if product else 2000
    old = variant.price_cents
    result = PriceChange(
        variant_id=variant_id,
        sku=variant.sku,
        old_price_cents=old,
        new_price_cents=price_cents,
        cost_cents=variant.cost_cents,
        margin_cents=round(price_cents * 10000 / (10000 + vat)) - variant.cost_cents,
        changed=old != price_cents,
    )
    if old == price_cents:
        return result
    variant.price_cents = price_cents
    variant.updated_at = utc_now()
    ctx.session.add(variant)
    ctx.record(
        action="update_variant_price",
        entity_type="product_variant",
        entity_id=variant_id,
        event="price_changed",
        domain="products",
        payload={"sku": variant.sku, "old": old, "new": price_cents, "reason": reason},
        before={"price_cents": old},
        after={"price_cents": price_cents, "reason": reason},
    )
    return result


# -- one product -------------------------------------------------------------------------


@tool(agent="products", path="/products/{product_id}")
def get_product(ctx: ToolContext, product_id: ProductId) -> ProductOut:
    """Get one product with its category and all its variants (SKU, EAN, grade, price, cost)."""
    return product_out(ctx, get_or_404(ctx.session, Product, product_id))


@tool(agent="products", path="/products/{product_id}", method="PATCH", writes=True, roles=MANAGERS)
def update_product(
    ctx: ToolContext,
    product_id: ProductId,
    name: Annotated[str | None, Field(min_length=2, max_length=200, description="Name.")] = None,
    description: Annotated[str | None, Field(max_length=5000, description="Text.")] = None,
    brand: Annotated[str | None, Field(min_length=1, max_length=80, description="Brand.")] = None,
    category_id: Annotated[int | None, Field(ge=1, description="Move to this category.")] = None,
    status: Annotated[
        ProductStatus | None, Field(description="draft, active (on sale) or archived.")
    ] = None,
) -> ProductOut:
    """Change a product's name, description, brand, category or status. Prices are changed
    per SKU with update_variant_price; deleting goes through delete_product."""
    product = get_or_404(ctx.session, Product, product_id, lock=True)
    changes = {
        key: value
        for key, value in (
            ("name", name),
            ("description", description),
            ("brand", brand),
            ("category_id", category_id),
            ("status", status),
        )
        if value is not None and value != getattr(product, key)
    }
    if not changes:
        raise InvalidInput("nothing to change: pass at least one new value", field=None)
    if category_id is not None:
        get_or_404(ctx.session, Category, category_id, "category")
    if status == ProductStatus.ACTIVE:
        active = ctx.session.exec(
            select(ProductVariant.id).where(
                ProductVariant.product_id == product_id, col(ProductVariant.is_active)
            )
        ).first()
        if active is None:
            raise Conflict(
                f"product {product_id} has no active variant; it cannot be put on sale",
                field="status",
            )
    before = {key: getattr(product, key) for key in changes}
    for key, value in changes.items():
        setattr(product, key, value)
    product.updated_at = utc_now()
    ctx.session.add(product)
    if "category_id" in changes:
        ctx.session.flush()
        recount_category_orders(
            ctx.session.connection(), [before["category_id"], product.category_id]
        )
    ctx.record(
        action="update_product",
        entity_type="product",
        entity_id=product_id,
        event="product_updated",
        domain="products",
        before={k: str(v) if isinstance(v, ProductStatus) else v for k, v in before.items()},
        after={k: str(v) if isinstance(v, ProductStatus) else v for k, v in changes.items()},
    )
    return product_out(ctx, product)


class Deletion(BaseModel):
    product_id: int
    name: str
    outcome: str = Field(description="deleted, or archived when its history must be kept.")
    kept: list[str] = Field(default=[], description="The history that prevented deletion.")
    message: str


def _references(ctx: ToolContext, variant_ids: list[int]) -> list[str]:
    """Tables whose rows still point at these variants (history that must be kept)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "product_variants" or table.name == "product_variants":
                continue
            where: Any = fk.parent.in_(variant_ids)
            if table.name == "stock_levels":  # empty stock rows go with the product
                where = sa.and_(where, sa.or_(table.c.on_hand > 0, table.c.reserved > 0))
            exists = ctx.session.execute(select(sa.literal(1)).select_from(table).where(where))
            if exists.first() is not None:
                found.append(table.name.replace("_", " "))
    return sorted(set(found))


@tool(
    agent="products",
    path="/products/{product_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def delete_product(ctx: ToolContext, product_id: ProductId) -> Deletion:
    """Delete a product and its variants. A product that was ever ordered (or has stock,
    movements, inspections or offers) is archived instead: taken off sale, history kept;
    the answer says which happened."""
    product = get_or_404(ctx.session, Product, product_id, lock=True)
    variant_ids = list(
        ctx.session.exec(
            select(ProductVariant.id).where(ProductVariant.product_id == product_id)
        ).all()
    )
    kept = _references(ctx, [v for v in variant_ids if v is not None])
    before = product_out(ctx, product).model_dump(mode="json")
    if kept:
        if product.status == ProductStatus.ARCHIVED:
            raise Conflict(
                f"product {product_id} is already archived and its {', '.join(kept)} "
                "must be kept; there is nothing more to delete"
            )
        product.status = ProductStatus.ARCHIVED
        product.updated_at = utc_now()
        ctx.session.add(product)
        ctx.record(
            action="archive_product",
            entity_type="product",
            entity_id=product_id,
            event="product_archived",
            domain="products",
            before={"status": before["status"]},
            after={"status": "archived", "kept_because": kept},
        )
        why = (
            "it was ordered before, and orders keep their products"
            if "order lines" in kept
            else f"its {', '.join(kept)} must be kept"
        )
        return Deletion(
            product_id=product_id,
            name=product.name,
            outcome="archived",
            kept=kept,
            message=f"{product.name} was archived instead of deleted: {why}. It is off sale; "
            "set its status back to active with update_product to sell it again.",
        )
    ctx.session.exec(  # type: ignore[call-overload]
        sa.delete(StockLevel).where(col(StockLevel.variant_id).in_(variant_ids))
    )
    ctx.session.exec(  # type: ignore[call-overload]
        sa.delete(ProductVariant).where(col(ProductVariant.product_id) == product_id)
    )
    ctx.session.delete(product)
    ctx.record(
        action="delete_product",
        entity_type="product",
        entity_id=product_id,
        event="product_deleted",
        domain="products",
        before=before,
    )
    return Deletion(
        product_id=product_id,
        name=before["name"],
        outcome="deleted",
        message=f"{before['name']} and its {len(variant_ids)} SKU(s) were deleted.",
    )
