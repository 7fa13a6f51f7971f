"""IDL demo data: reference data from the files beside this module, one user per role, and
purchase orders in every status, made through the same services the API uses.

Loaded only into an empty database (no IDL users yet). The demo users' passwords are in
`demo/users.json`; `make demo-credentials` prints them with fresh tokens.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.files import FileStore
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Caller, Users
from models.idl.attachments import CLEAN
from models.idl.purchasing import PurchaseOrders
from models.idl.reference import import_file
from models.idl.repositories import AttachmentRepository, UserRepository
from models.idl.settings import IDLSettings
from models.idl.tables import Attachment, PurchaseOrder, User
from models.idl.workflow import Workflow

DEMO_DIR = Path(__file__).resolve().parent / "demo"
REFERENCE_FILES = (
    ("projects", "projects.csv"),
    ("cost-codes", "cost_codes.csv"),
    ("tax-codes", "tax_codes.csv"),
    ("vendors", "vendors.json"),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    password: str
    project_ids: tuple[str, ...]
    active: bool = True


def demo_users() -> list[DemoUser]:
    rows: list[dict[str, Any]] = json.loads((DEMO_DIR / "users.json").read_text())
    return [
        DemoUser(
            row["email"], row["name"], row["role"], row["password"], tuple(row["project_ids"]), row.get("active", True)
        )
        for row in rows
    ]


def quote_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for a vendor's quote."""
    text = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _line(
    description: str, quantity: str, unit: str, unit_price: str, category: str, tax_code: str = "GP"
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "unit": unit,
        "unit_price": Decimal(unit_price),
        "category": category,
        "tax_code": tax_code,
    }


def _order(
    kind: str, project: str, cost_code: str, vendor: str, *lines: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    vendors = {
        "ABC Supply Co.": ("Jane Smith", "jane@abcsupply.com", "555-0123", "123 Main St, City, State 12345"),
        "Bayside Concrete Ltd.": (
            "Omar Reyes",
            "dispatch@baysideconcrete.example",
            "555-0147",
            "48 Quarry Rd, Bayside",
        ),
        "Delta Steel Fabricators": ("Lena Ward", "quotes@deltasteel.example", "555-0199", "700 Foundry Ave, Millport"),
        "Copperline Electrical Wholesale": ("Ravi Patel", "sales@copperline.example", "555-0188", "9 Industrial Way"),
    }
    contact, email, phone, address = vendors[vendor]
    return {
        "type": kind,
        "project_id": project,
        "cost_code": cost_code,
        "vendor_name": vendor,
        "vendor_contact_name": contact,
        "vendor_email": email,
        "vendor_phone": phone,
        "vendor_address": address,
        "line_items": list(lines),
        **extra,
    }


def load_demo_data(unit: UnitOfWork, settings: IDLSettings) -> bool:
    """Load the demo into an empty IDL schema; False (and nothing written) if it has users."""
    if UserRepository(unit).count():
        return False
    for kind, name in REFERENCE_FILES:
        import_file(unit, kind, DEMO_DIR / name)
    users = Users(unit)
    accounts = {
        demo.role if demo.active else "retired": users.create(
            email=demo.email,
            name=demo.name,
            role=demo.role,
            password=demo.password,
            project_ids=demo.project_ids,
            active=demo.active,
        )
        for demo in demo_users()
    }

    def as_(role: str) -> Caller:
        return Caller.of(accounts[role], "127.0.0.1")

    orders, workflow = PurchaseOrders(unit), Workflow(unit)
    foreman = as_("foreman")

    # draft: the document's own example line
    orders.create(
        foreman,
        _order(
            "standard", "PRJ001", "CC-003", "ABC Supply Co.", _line("2x4 Lumber - 8ft", "50.000", "pcs", "12.50", "MA")
        ),
    )
    # submitted, waiting for Sam Super (the lowest limit covering it on PRJ001)
    submitted = orders.create(
        foreman,
        _order(
            "standard",
            "PRJ001",
            "CC-002",
            "Bayside Concrete Ltd.",
            _line("Ready-mix concrete 4000 psi", "24.000", "yd3", "168.00", "MA"),
            _line("Pump truck, half day", "1", "ea", "950.00", "EQ", "GST"),
        ),
    )
    workflow.submit(foreman, submitted.id)
    # approved by Paula on PRJ002, with the vendor's quote attached
    approved = orders.create(
        foreman,
        _order(
            "rolling",
            "PRJ002",
            "CC-002",
            "Delta Steel Fabricators",
            _line("W12x26 beams, 30 ft", "18.000", "ea", "842.75", "MA"),
            ceiling_amount=Decimal("25000.00"),
        ),
    )
    _attach_quote(unit, settings, approved, accounts["foreman"])
    workflow.submit(foreman, approved.id)
    workflow.approve(as_("pm"), approved.id, "Matches the steel package budget")
    # rejected by Sam
    rejected = orders.create(
        foreman,
        _order(
            "walkup",
            "PRJ001",
            "CC-004",
            "Copperline Electrical Wholesale",
            _line("12/2 Romex, 250 ft roll", "6", "roll", "129.99", "MA"),
            urgency_justification="Panel inspection moved up to Friday",
        ),
    )
    workflow.submit(foreman, rejected.id)
    workflow.reject(as_("super"), rejected.id, "Use the electrical subcontractor's stock instead")
    # cancelled by its creator while still a draft
    cancelled = orders.create(
        foreman,
        _order(
            "standard", "PRJ001", "CC-001", "ABC Supply Co.", _line("Silt fence, 100 ft", "10", "roll", "64.00", "MA")
        ),
    )
    workflow.cancel(foreman, cancelled.id, "Covered by the earthwork subcontract")
    # closed: approved by Sam, closed by Paula once delivered
    closed = orders.create(
        foreman,
        _order(
            "standard", "PRJ001", "CC-003", "ABC Supply Co.", _line("OSB sheathing 7/16", "120", "sheet", "18.40", "MA")
        ),
    )
    workflow.submit(foreman, closed.id)
    workflow.approve(as_("super"), closed.id, None)
    workflow.close(as_("pm"), closed.id, "All materials received and invoiced")
    return True


def _attach_quote(unit: UnitOfWork, settings: IDLSettings, order: PurchaseOrder, uploader: User) -> None:
    store = FileStore(settings.upload_dir)
    stored = store.save(io.BytesIO(quote_pdf(f"Quote for {order.po_number}")), "quote.pdf", settings.max_upload_bytes)
    AttachmentRepository(unit).add(
        Attachment(
            purchase_order_id=order.id,
            original_filename="quote.pdf",
            stored_filename=stored.stored_filename,
            file_size=stored.size,
            mime_type="application/pdf",
            virus_scan_status=CLEAN,
            uploaded_by=uploader,
        )
    )
