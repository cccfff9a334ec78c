"""Drawing documents: invoices, credit notes and packing slips (PDF), shipping labels (PDF, PNG
and ZPL). Pure functions from plain data to bytes; tools/documents.py gathers the data."""

import io
import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import reportlab
from barcode import Code128 as Code128Pattern
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

LABEL_SIZE = (100 * mm, 150 * mm)  # the 10 x 15 cm thermal label every carrier uses
LABEL_DOTS = (812, 1218)  # the same at 203 dpi, for PNG and ZPL


def money(cents: int) -> str:
    """1 234,50 EUR, with plain spaces so every PDF reader extracts the same text."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{rest:02d} EUR"


@lru_cache
def _font_files() -> tuple[str, str]:
    """A Unicode TrueType font (DejaVu when installed, else Vera shipped with reportlab)."""
    for regular, bold in (
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
        (os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf"), "VeraBd.ttf"),
    ):
        bold_path = os.path.join(os.path.dirname(regular), bold)
        if Path(regular).exists() and Path(bold_path).exists():
            return regular, bold_path
    raise RuntimeError("no TrueType font found for documents")  # pragma: no cover


@lru_cache
def _fonts() -> tuple[str, str]:
    regular, bold = _font_files()
    pdfmetrics.registerFont(TTFont("DocSans", regular))
    pdfmetrics.registerFont(TTFont("DocSans-Bold", bold))
    return "DocSans", "DocSans-Bold"


# -- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    name: str
    address: list[str]
    details: list[str] = field(default_factory=list)  # SIREN, VAT number, e-mail...


@dataclass(frozen=True)
class Row:
    description: str
    sku: str
    quantity: int
    unit_excl_cents: int
    vat_rate_bp: int
    discount_cents: int
    total_cents: int  # VAT included


@dataclass(frozen=True)
class Invoice:
    title: str  # "Invoice" or "Credit note"
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    references: list[str]  # order, date of sale, invoice corrected, payment...
    rows: list[Row]
    totals: list[tuple[str, int]]  # label, cents; the last one is printed bold
    notes: list[str]


@dataclass(frozen=True)
class SlipLine:
    description: str
    sku: str
    quantity: int
    detail: str = ""  # grade of a refurbished unit


@dataclass(frozen=True)
class PackingSlip:
    order_id: int
    order_date: date
    reference: str | None  # the marketplace's order number
    sender: Party
    recipient: Party
    lines: list[SlipLine]
    shipment: str | None
    notes: list[str]


@dataclass(frozen=True)
class LabelData:
    carrier: str
    service: str
    zone: str
    tracking_number: str
    sender: Party
    recipient: Party
    phone: str | None
    weight_grams: int
    order_id: int
    shipment_id: int
    shipped_on: date
    notice: str  # e.g. that the tracking number comes from the carrier sandbox


# -- A4 documents ----------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=18, leading=22),
        "head": ParagraphStyle("head", fontName=bold, fontSize=10, leading=13),
        "body": ParagraphStyle("body", fontName=regular, fontSize=9, leading=12),
        "small": ParagraphStyle("small", fontName=regular, fontSize=7.5, leading=10),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _party(title: str, party: Party, styles: dict[str, ParagraphStyle]) -> list[Paragraph]:
    lines = [
        Paragraph(_escape(title), styles["head"]),
        Paragraph(_escape(party.name), styles["body"]),
    ]
    lines += [Paragraph(_escape(line), styles["body"]) for line in party.address + party.details]
    return lines


def _grid(rows: list[list[object]], widths: list[float], header: bool = True) -> Table:
    regular, bold = _fonts()
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), regular, 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
    ]
    if header:
        style.append(("FONT", (0, 0), (-1, 0), bold, 8.5))
    table.setStyle(TableStyle(style))
    return table


def _pdf(story: list[Flowable], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Comptoir",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()


def render_invoice(invoice: Invoice) -> bytes:
    """An invoice or a credit note, A4 PDF."""
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(_escape(f"{invoice.title} {invoice.number}"), styles["title"]),
        Paragraph(f"Date of issue: {invoice.issued_on.isoformat()}", styles["body"]),
        Spacer(1, 6 * mm),
    ]
    parties = Table(
        [[_party("Seller", invoice.seller, styles), _party("Billed to", invoice.buyer, styles)]],
        colWidths=[87 * mm, 87 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [parties, Spacer(1, 5 * mm)]
    story += [Paragraph(_escape(line), styles["body"]) for line in invoice.references]
    story.append(Spacer(1, 5 * mm))
    body: list[list[object]] = [
        ["Description", "SKU", "Qty", "Unit excl. VAT", "VAT", "Discount", "Total incl. VAT"]
    ]
    for row in invoice.rows:
        body.append(
            [
                Paragraph(_escape(row.description), styles["body"]),
                Paragraph(_escape(row.sku), styles["small"]),
                str(row.quantity),
                money(row.unit_excl_cents),
                f"{row.vat_rate_bp / 100:g}%",
                money(row.discount_cents) if row.discount_cents else "",
                money(row.total_cents),
            ]
        )
    widths = [52 * mm, 36 * mm, 10 * mm, 22 * mm, 11 * mm, 18 * mm, 25 * mm]
    story += [_grid(body, widths), Spacer(1, 5 * mm)]
    regular, bold = _fonts()
    totals = Table(
        [[label, money(cents)] for label, cents in invoice.totals], colWidths=[50 * mm, 30 * mm]
    )
    totals.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 9),
                ("FONT", (0, -1), (-1, -1), bold, 10),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
            ]
        )
    )
    totals.hAlign = "RIGHT"
    story += [totals, Spacer(1, 8 * mm)]
    story += [Paragraph(_escape(note), styles["small"]) for note in invoice.notes]
    return _pdf(story, f"{invoice.title} {invoice.number}")


def render_packing_slip(slip: PackingSlip) -> bytes:
    """The sheet that goes in the parcel: what it holds, no prices."""
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(f"Packing slip - order {slip.order_id}", styles["title"]),
        Paragraph(f"Order date: {slip.order_date.isoformat()}", styles["body"]),
    ]
    if slip.reference:
        story.append(Paragraph(_escape(slip.reference), styles["body"]))
    if slip.shipment:
        story.append(Paragraph(_escape(slip.shipment), styles["body"]))
    parties = Table(
        [[_party("Shipped from", slip.sender, styles), _party("Ship to", slip.recipient, styles)]],
        colWidths=[87 * mm, 87 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 5 * mm), parties, Spacer(1, 6 * mm)]
    body: list[list[object]] = [["Item", "SKU", "Qty", "Packed"]]
    for line in slip.lines:
        text = line.description + (f" ({line.detail})" if line.detail else "")
        body.append(
            [
                Paragraph(_escape(text), styles["body"]),
                Paragraph(_escape(line.sku), styles["small"]),
                str(line.quantity),
                "[  ]",
            ]
        )
    body.append(["Items in this parcel", "", str(sum(line.quantity for line in slip.lines)), ""])
    story += [_grid(body, [88 * mm, 52 * mm, 14 * mm, 20 * mm]), Spacer(1, 8 * mm)]
    story += [Paragraph(_escape(note), styles["body"]) for note in slip.notes]
    return _pdf(story, f"Packing slip {slip.order_id}")


# -- shipping labels -------------------------------------------------------------------------


def _label_lines(label: LabelData) -> tuple[list[str], list[str], list[str]]:
    sender = [f"FROM: {label.sender.name}", *label.sender.address]
    recipient = [label.recipient.name, *label.recipient.address]
    if label.phone:
        recipient.append(f"Tel. {label.phone}")
    footer = [
        f"Order {label.order_id} - shipment {label.shipment_id}",
        f"{label.weight_grams / 1000:.2f} kg - shipped {label.shipped_on.isoformat()}",
        label.notice,
    ]
    return sender, recipient, footer


def render_label_pdf(label: LabelData) -> bytes:
    """A 10 x 15 cm label with the tracking number as a Code 128 barcode."""
    regular, bold = _fonts()
    buffer = io.BytesIO()
    width, height = LABEL_SIZE
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)
    canvas.setTitle(f"Label {label.tracking_number}")
    sender, recipient, footer = _label_lines(label)
    y = height - 12 * mm
    canvas.setFont(bold, 16)
    canvas.drawString(6 * mm, y, label.carrier)
    canvas.setFont(bold, 11)
    canvas.drawRightString(width - 6 * mm, y, f"{label.service.upper()} {label.zone}")
    y -= 5 * mm
    canvas.line(5 * mm, y, width - 5 * mm, y)
    canvas.setFont(regular, 7.5)
    for line in sender:
        y -= 3.6 * mm
        canvas.drawString(6 * mm, y, line)
    y -= 4 * mm
    canvas.line(5 * mm, y, width - 5 * mm, y)
    y -= 6 * mm
    canvas.setFont(bold, 9)
    canvas.drawString(6 * mm, y, "TO:")
    canvas.setFont(bold, 12)
    for line in recipient:
        y -= 5.2 * mm
        canvas.drawString(8 * mm, y, line)
    y -= 5 * mm
    canvas.line(5 * mm, y, width - 5 * mm, y)
    modules = max(len(Code128Pattern(label.tracking_number).build()[0]), 1)
    barcode = Code128(
        label.tracking_number,
        barHeight=24 * mm,
        barWidth=min(0.5 * mm, (width - 14 * mm) / modules),
        humanReadable=False,
        quiet=False,
    )
    y -= 30 * mm
    barcode.drawOn(canvas, (width - barcode.width) / 2, y)
    canvas.setFont(bold, 12)
    canvas.drawCentredString(width / 2, y - 6 * mm, label.tracking_number)
    canvas.setFont(regular, 7.5)
    y = 6 * mm + 3.6 * mm * len(footer)
    for line in footer:
        canvas.drawString(6 * mm, y, line)
        y -= 3.6 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_label_png(label: LabelData) -> bytes:
    """The same label as a 203 dpi PNG for thermal printers that take images."""
    regular_file, bold_file = _font_files()
    width, height = LABEL_DOTS
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)

    def font(path: str, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, size)

    sender, recipient, footer = _label_lines(label)
    draw.text((40, 30), label.carrier, font=font(bold_file, 56), fill=0)
    service = f"{label.service.upper()} {label.zone}"
    draw.text((width - 40, 45), service, font=font(bold_file, 34), fill=0, anchor="ra")
    draw.line((30, 110, width - 30, 110), fill=0, width=3)
    y = 125
    for line in sender:
        draw.text((40, y), line, font=font(regular_file, 24), fill=0)
        y += 30
    y += 10
    draw.line((30, y, width - 30, y), fill=0, width=3)
    y += 20
    draw.text((40, y), "TO:", font=font(bold_file, 28), fill=0)
    y += 40
    for line in recipient:
        draw.text((60, y), line, font=font(bold_file, 36), fill=0)
        y += 46
    y += 20
    draw.line((30, y, width - 30, y), fill=0, width=3)
    pattern = Code128Pattern(label.tracking_number).build()[0]
    module = max(1, min(4, (width - 80) // len(pattern)))
    left = (width - module * len(pattern)) // 2
    top = y + 40
    for index, bit in enumerate(pattern):
        if bit == "1":
            x = left + index * module
            draw.rectangle((x, top, x + module - 1, top + 220), fill=0)
    draw.text(
        (width // 2, top + 240),
        label.tracking_number,
        font=font(bold_file, 36),
        fill=0,
        anchor="ma",
    )
    y = height - 40 - 30 * len(footer)
    for line in footer:
        draw.text((40, y), line, font=font(regular_file, 22), fill=0)
        y += 30
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(203, 203))
    return buffer.getvalue()


def _zpl_text(text: str) -> str:
    return text.replace("^", " ").replace("~", " ")


def render_label_zpl(label: LabelData) -> bytes:
    """The label in ZPL II for Zebra printers (203 dpi, 4 x 6 in), written by hand."""
    sender, recipient, footer = _label_lines(label)
    width, height = LABEL_DOTS
    out = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}", "^LH0,0"]
    out.append(f"^FO40,30^A0N,56,56^FD{_zpl_text(label.carrier)}^FS")
    out.append(
        f"^FO{width - 340},45^FB300,1,0,R^A0N,34,34"
        f"^FD{_zpl_text(label.service.upper())} {_zpl_text(label.zone)}^FS"
    )
    out.append(f"^FO30,110^GB{width - 60},3,3^FS")
    y = 125
    for line in sender:
        out.append(f"^FO40,{y}^A0N,24,24^FD{_zpl_text(line)}^FS")
        y += 30
    y += 10
    out.append(f"^FO30,{y}^GB{width - 60},3,3^FS")
    y += 20
    out.append(f"^FO40,{y}^A0N,28,28^FDTO:^FS")
    y += 40
    for line in recipient:
        out.append(f"^FO60,{y}^A0N,36,36^FD{_zpl_text(line)}^FS")
        y += 46
    y += 20
    out.append(f"^FO30,{y}^GB{width - 60},3,3^FS")
    modules = len(Code128Pattern(label.tracking_number).build()[0])
    module = max(1, min(4, (width - 80) // modules))
    left = (width - module * modules) // 2
    out.append(f"^FO{left},{y + 40}^BY{module},3,220")
    out.append(f"^BCN,220,Y,N,N^FD{_zpl_text(label.tracking_number)}^FS")
    y = height - 40 - 30 * len(footer)
    for line in footer:
        out.append(f"^FO40,{y}^A0N,22,22^FD{_zpl_text(line)}^FS")
        y += 30
    out.append("^PQ1")
    out.append("^XZ")
    return ("\n".join(out) + "\n").encode()
