"""Documents tools: invoices and credit notes as numbered PDFs, packing slips, shipping labels
in PDF, PNG and ZPL, stored per order with their size and SHA-256; roles and REST errors."""

import hashlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pypdf
import pytest
from barcode import Code128
from PIL import Image
from sqlalchemy.engine import Engine

import tools.documents  # registers the documents tools
import tools.transport  # noqa: F401  (registers the transport tools)
from core.settings import get_settings
from db.base import utc_now
from tools.base import REGISTRY, Conflict, Forbidden, InvalidInput, NotFound
from tools.documents_render import money

YEAR = utc_now().year


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Documents go to a temporary data folder."""
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data" / "documents"
    get_settings.cache_clear()


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    return "\n".join(page.extract_text() for page in reader.pages)


def orders(sql: Any, status: str, count: int) -> list[int]:
    return [
        sql("SELECT id FROM orders WHERE status = :s ORDER BY id LIMIT 1 OFFSET :n", s=status, n=n)
        for n in range(count)
    ]


def refunded_order(sql: Any) -> tuple[int, int]:
    order_id = sql(
        "SELECT r.order_id FROM refunds r JOIN orders o ON o.id = r.order_id"
        " WHERE o.status = 'returned' AND r.status = 'succeeded' ORDER BY r.order_id LIMIT 1"
    )
    refunded = sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE order_id = :o AND status = 'succeeded'",
        o=order_id,
    )
    return order_id, refunded


# -- invoices ----------------------------------------------------------------------------


def test_generate_invoice_writes_a_pdf_of_the_order(
    api: Any, sql: Any, seeded_engine: Engine, data_dir: Path
) -> None:
    order_id = sql(
        "SELECT id FROM orders WHERE status = 'delivered' AND discount_cents > 0"
        " AND shipping_cents > 0 ORDER BY id LIMIT 1"
    )
    response = api("support", "POST", f"/documents/orders/{order_id}/invoice")
    assert response.status_code == 200, response.text
    invoice = response.json()
    assert invoice["number"] == f"FA-{YEAR}-000001" and invoice["created"] is True
    assert invoice["path"] == f"{order_id}/FA-{YEAR}-000001.pdf"
    file = data_dir / invoice["path"]
    content = file.read_bytes()
    assert invoice["size_bytes"] == len(content)
    assert invoice["sha256"] == hashlib.sha256(content).hexdigest()
    assert sql("SELECT sha256 FROM documents WHERE id = :i", i=invoice["id"]) == invoice["sha256"]
    text = pdf_text(file)
    assert f"Invoice FA-{YEAR}-000001" in text and f"Order {order_id}" in text
    with seeded_engine.connect() as connection:
        lines = connection.exec_driver_sql(
            f"SELECT sku, quantity, total_cents FROM order_lines WHERE order_id = {order_id}"
        ).all()
    flat = text.replace("\n", "")
    for sku, _quantity, total in lines:
        assert sku in flat and money(total) in text
    for column in ("total_cents", "tax_cents", "shipping_cents", "discount_cents"):
        cents = sql(f"SELECT {column} FROM orders WHERE id = :o", o=order_id)
        assert money(cents) in text, column
    billing = sql(
        "SELECT a.full_name FROM orders o JOIN addresses a ON a.id = o.billing_address_id"
        " WHERE o.id = :o",
        o=order_id,
    )
    assert billing in text and "Maison Lumen" in text
    assert sql(f"SELECT last_value FROM document_sequences WHERE series = 'FA-{YEAR}'") == 1
    assert (
        sql(
            "SELECT type FROM domain_events WHERE entity_type = 'document' AND entity_id = :i",
            i=str(invoice["id"]),
        )
        == "invoice_generated"
    )


def test_generate_invoice_twice_returns_the_same_invoice(call: Any, sql: Any) -> None:
    order_id = orders(sql, "delivered", 1)[0]
    first = call("support", "generate_invoice", order_id=order_id)
    again = call("support", "generate_invoice", order_id=order_id)
    assert again.created is False and again.id == first.id and again.number == first.number
    assert sql("SELECT COUNT(*) FROM documents WHERE order_id = :o", o=order_id) == 1
    assert sql(f"SELECT last_value FROM document_sequences WHERE series = 'FA-{YEAR}'") == 1
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'invoice_generated'") == 1


def test_invoice_numbers_follow_the_sequence_and_the_prefix_setting(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    first, second, third = orders(sql, "delivered", 3)
    numbers = [call("support", "generate_invoice", order_id=o).number for o in (first, second)]
    assert numbers == [f"FA-{YEAR}-000001", f"FA-{YEAR}-000002"]
    with seeded_engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE system_settings SET value = '\"FAC\"' WHERE key = 'documents.invoice_prefix'"
        )
    assert call("support", "generate_invoice", order_id=third).number == f"FAC-{YEAR}-000001"


def test_invoice_numbers_stay_unique_under_concurrent_calls(call: Any, sql: Any) -> None:
    targets = orders(sql, "delivered", 6)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda o: call("support", "generate_invoice", order_id=o), targets * 2)
        )
    numbers = {r.order_id: r.number for r in results if r.created}
    assert sorted(numbers.values()) == [f"FA-{YEAR}-{n:06d}" for n in range(1, 7)]
    assert sorted(numbers) == sorted(targets)
    assert all(r.number == numbers[r.order_id] for r in results)  # the twins got the same one
    assert sql("SELECT COUNT(*) FROM documents WHERE kind = 'invoice'") == 6
    assert sql(f"SELECT last_value FROM document_sequences WHERE series = 'FA-{YEAR}'") == 6


def test_generate_invoice_refuses_unpaid_and_cancelled_orders(
    api: Any, call: Any, sql: Any, data_dir: Path
) -> None:
    for status, message in (("pending", "not paid"), ("cancelled", "cancelled")):
        order_id = orders(sql, status, 1)[0]
        with pytest.raises(Conflict, match=message) as error:
            call("support", "generate_invoice", order_id=order_id)
        assert error.value.field == "order_id"
    missing = api("support", "POST", "/documents/orders/999999/invoice")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "not_found",
            "message": "order 999999 does not exist",
            "field": "order_id",
        }
    }
    assert sql("SELECT COUNT(*) FROM document_sequences") == 0
    assert sql("SELECT COUNT(*) FROM documents") == 0
    assert not data_dir.exists() or not any(data_dir.rglob("*.pdf"))


def test_viewer_cannot_generate_documents(api: Any, call: Any, sql: Any) -> None:
    order_id = orders(sql, "delivered", 1)[0]
    response = api("viewer", "POST", f"/documents/orders/{order_id}/invoice")
    assert response.status_code == 403
    assert set(response.json()["error"]) == {"code", "message", "field"}
    assert response.json()["error"]["code"] == "forbidden"
    for name, args in (
        ("generate_packing_slip", {"order_id": order_id}),
        ("generate_shipping_label", {"shipment_id": 1}),
        ("generate_credit_note", {"order_id": order_id, "reason": "return"}),
    ):
        with pytest.raises(Forbidden):
            call("viewer", name, **args)
    assert sql("SELECT COUNT(*) FROM documents") == 0


# -- credit notes ------------------------------------------------------------------------


def test_generate_credit_note_for_the_refunded_money(call: Any, sql: Any, data_dir: Path) -> None:
    order_id, refunded = refunded_order(sql)
    invoice = call("manager", "generate_invoice", order_id=order_id)
    part = call(
        "manager", "generate_credit_note", order_id=order_id, reason="return", amount_cents=1000
    )
    assert part.number == f"AV-{YEAR}-000001" and part.kind == "credit_note"
    rest = call("manager", "generate_credit_note", order_id=order_id, reason="return refunded")
    assert rest.number == f"AV-{YEAR}-000002"
    text = pdf_text(data_dir / rest.path)
    assert f"Credit note AV-{YEAR}-000002" in text
    assert f"Corrects invoice {invoice.number}" in text
    assert money(refunded - 1000) in text and money(refunded) in text  # this note, and so far
    assert sql(f"SELECT last_value FROM document_sequences WHERE series = 'AV-{YEAR}'") == 2
    assert sql(f"SELECT last_value FROM document_sequences WHERE series = 'FA-{YEAR}'") == 1
    with pytest.raises(Conflict, match="nothing left to credit"):
        call("manager", "generate_credit_note", order_id=order_id, reason="again")
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'credit_note_generated'") == 2


def test_generate_credit_note_enforces_its_rules(call: Any, sql: Any) -> None:
    order_id, refunded = refunded_order(sql)
    assert REGISTRY["generate_credit_note"].approval
    with pytest.raises(Conflict, match="no invoice"):
        call("manager", "generate_credit_note", order_id=order_id, reason="return")
    call("support", "generate_invoice", order_id=order_id)
    with pytest.raises(Conflict, match="not credited yet") as error:
        call(
            "manager",
            "generate_credit_note",
            order_id=order_id,
            reason="return",
            amount_cents=refunded + 1,
        )
    assert error.value.field == "amount_cents"
    with pytest.raises(InvalidInput) as bad:
        call("manager", "generate_credit_note", order_id=order_id, reason="r", amount_cents=0)
    assert bad.value.field == "reason"
    with pytest.raises(Forbidden):
        call("support", "generate_credit_note", order_id=order_id, reason="return")
    never_refunded = sql(
        "SELECT id FROM orders WHERE status = 'delivered' AND id NOT IN"
        " (SELECT order_id FROM refunds) ORDER BY id LIMIT 1"
    )
    call("support", "generate_invoice", order_id=never_refunded)
    with pytest.raises(Conflict, match="nothing left to credit"):
        call("manager", "generate_credit_note", order_id=never_refunded, reason="gesture")
    assert sql("SELECT COUNT(*) FROM documents WHERE kind = 'credit_note'") == 0


# -- packing slips and labels ------------------------------------------------------------


def test_generate_packing_slip_lists_items_without_prices(
    api: Any, sql: Any, seeded_engine: Engine, data_dir: Path
) -> None:
    order_id = sql(
        "SELECT o.id FROM orders o JOIN marketplace_orders m ON m.order_id = o.id"
        " WHERE o.status = 'processing' ORDER BY o.id LIMIT 1"
    )
    response = api("support", "POST", f"/documents/orders/{order_id}/packing-slip")
    assert response.status_code == 200, response.text
    slip = response.json()
    assert slip["kind"] == "packing_slip" and slip["number"] is None
    text = pdf_text(data_dir / slip["path"])
    flat = text.replace("\n", "")
    with seeded_engine.connect() as connection:
        lines = connection.exec_driver_sql(
            f"SELECT sku, quantity FROM order_lines WHERE order_id = {order_id}"
        ).all()
    for sku, _ in lines:
        assert sku in flat
    assert f"Items in this parcel\n{sum(q for _, q in lines)}" in text
    assert "EUR" not in text
    external = sql(
        "SELECT external_order_id FROM marketplace_orders WHERE order_id = :o", o=order_id
    )
    assert external in text
    again = api("support", "POST", f"/documents/orders/{order_id}/packing-slip").json()
    assert again["id"] == slip["id"] and again["created"] is False
    pending = sql("SELECT id FROM orders WHERE status = 'pending' LIMIT 1")
    refused = api("support", "POST", f"/documents/orders/{pending}/packing-slip")
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "order_id"


def barcode_rows(png: Path, pattern: str) -> int:
    """How many pixel rows of the image read exactly as this Code 128 module pattern."""
    with Image.open(png) as image:
        bitmap = image.convert("1")
        width, height = bitmap.size
        data = bitmap.tobytes()  # 1 bit per pixel, rows padded to whole bytes, 0 is black
    stride = (width + 7) // 8
    found = 0
    for y in range(height):
        row = data[y * stride : (y + 1) * stride]
        bits = "".join(f"{byte:08b}" for byte in row)[:width]
        bars = bits.translate(str.maketrans("01", "10")).strip("0")
        if not bars:
            continue
        runs = [len(run) for run in re.findall(r"1+|0+", bars)]
        module = min(runs)
        if any(run % module for run in runs):
            continue
        decoded = "".join(
            ("1" if i % 2 == 0 else "0") * (run // module) for i, run in enumerate(runs)
        )
        found += decoded == pattern
    return found


def test_generate_shipping_label_in_pdf_png_and_zpl(call: Any, sql: Any, data_dir: Path) -> None:
    order_id = sql("SELECT id FROM orders WHERE status = 'processing' ORDER BY id LIMIT 1")
    shipment = call("support", "create_shipment", order_id=order_id)
    tracking = shipment.tracking_number
    recipient = sql(
        "SELECT a.full_name FROM orders o JOIN addresses a ON a.id = o.shipping_address_id"
        " WHERE o.id = :o",
        o=order_id,
    )
    warehouse = sql("SELECT address_line FROM warehouses WHERE id = :w", w=shipment.warehouse_id)

    pdf = call("support", "generate_shipping_label", shipment_id=shipment.id, format="pdf")
    text = pdf_text(data_dir / pdf.path)
    for expected in (tracking, recipient, warehouse, shipment.carrier_name):
        assert expected in text
    assert pypdf.PdfReader(data_dir / pdf.path).pages[0].mediabox.width == pytest.approx(
        283.46, 0.1
    )

    png = call("support", "generate_shipping_label", shipment_id=shipment.id, format="png")
    with Image.open(data_dir / png.path) as image:
        assert image.format == "PNG" and image.size == (812, 1218)
    assert barcode_rows(data_dir / png.path, Code128(tracking).build()[0]) >= 100

    zpl = call("support", "generate_shipping_label", shipment_id=shipment.id, format="zpl")
    label = (data_dir / zpl.path).read_text()
    assert label.startswith("^XA") and label.rstrip().endswith("^XZ")
    assert re.search(rf"\^BC[^\^]*\^FD{tracking}\^FS", label)
    assert recipient in label

    assert (
        sql(
            "SELECT COUNT(*) FROM documents WHERE kind = 'shipping_label' AND order_id = :o",
            o=order_id,
        )
        == 3
    )
    reprint = call("support", "generate_shipping_label", shipment_id=shipment.id, format="zpl")
    assert reprint.created is False and reprint.id == zpl.id
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'shipping_label_generated'") == 3


def test_generate_shipping_label_refuses_bad_requests(api: Any, sql: Any) -> None:
    delivered = sql("SELECT id FROM shipments WHERE status = 'delivered' LIMIT 1")
    done = api("support", "POST", f"/documents/shipments/{delivered}/label", json={})
    assert done.status_code == 409 and "delivered" in done.json()["error"]["message"]
    in_transit = sql("SELECT id FROM shipments WHERE status = 'in_transit' LIMIT 1")
    bad = api("support", "POST", f"/documents/shipments/{in_transit}/label", json={"format": "gif"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "format"
    missing = api("support", "POST", "/documents/shipments/999999/label", json={})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "shipment_id"
    assert sql("SELECT COUNT(*) FROM documents") == 0


# -- reading -----------------------------------------------------------------------------


def test_list_and_get_documents(api: Any, call: Any, sql: Any, data_dir: Path) -> None:
    order_id = orders(sql, "delivered", 1)[0]
    invoice = call("support", "generate_invoice", order_id=order_id)
    slip = call("support", "generate_packing_slip", order_id=order_id)
    listed = api("viewer", "GET", f"/documents/orders/{order_id}").json()
    assert [d["id"] for d in listed["items"]] == [slip.id, invoice.id]
    only = api("viewer", "GET", f"/documents/orders/{order_id}", params={"kind": "invoice"})
    assert [d["number"] for d in only.json()["items"]] == [invoice.number]
    document = api("viewer", "GET", f"/documents/{invoice.id}").json()
    assert document["file_exists"] and document["intact"]
    assert document["path"] == invoice.path and document["sha256"] == invoice.sha256
    (data_dir / invoice.path).write_bytes(b"%PDF-1.4 tampered")
    assert call("viewer", "get_document", document_id=invoice.id).intact is False
    with pytest.raises(NotFound):
        call("viewer", "get_document", document_id=999999)
    assert api("viewer", "GET", "/documents/orders/999999").status_code == 404
