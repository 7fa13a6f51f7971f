"""`GET …/context/suppliers/{supplier_id}` from CPRAS's own data, and `partner-gateway cpras
import`, which loads that data from CSV or JSON: all or nothing, errors by row. On SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.procurement import Procurement, ProcurementImportError, import_file, import_rows
from models.cpras.tables import Supplier
from tests.cpras.test_webhooks import token_with

CONTEXT = "/cpras/v1/partners/printplanr/context/suppliers/"


def test_the_context_is_the_documents_example(client: TestClient, cpras_db: Database, database: Settings) -> None:
    token = token_with(client, cpras_db, database, scopes.SUPPLIER_CONTEXT_READ)
    answer = client.get(CONTEXT + "sup_123", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "supplier_id": "sup_123",
        "company_name": "Acme Print Ltd",
        "primary_email": "ops@acmeprint.co.uk",
        "framework": {"framework_id": "fw_wdc_print", "contract_id": "ctr_789", "project_id": "proj_wdc_2025"},
        "contracted_lots": [
            {"lot_id": "lot_1", "lot_code": "LOT1", "title": "General Print"},
            {"lot_id": "lot_2", "lot_code": "LOT2", "title": "Large Format"},
        ],
        "pricing_policy": {"display": "as_is"},
    }


def test_the_context_needs_its_scope(client: TestClient, cpras_db: Database, database: Settings) -> None:
    token = token_with(client, cpras_db, database, scopes.WEBHOOKS_WRITE)
    refused = client.get(CONTEXT + "sup_123", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert client.get(CONTEXT + "sup_123").status_code == 401


def test_an_unknown_supplier_is_404(client: TestClient, cpras_db: Database, database: Settings) -> None:
    token = token_with(client, cpras_db, database, scopes.SUPPLIER_CONTEXT_READ)
    answer = client.get(CONTEXT + "sup_nobody", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "Supplier sup_nobody was not found."


def load(unit: UnitOfWork, suffix: str, ended: bool = False) -> None:
    """A supplier with one contract; its lot ended yesterday if `ended`."""
    today = date.today()
    start, end = (today - timedelta(days=30), today - timedelta(days=1) if ended else today + timedelta(days=30))
    import_rows(
        unit,
        "suppliers",
        [
            {
                "supplier_id": f"sup_{suffix}",
                "company_name": "Test Print",
                "primary_email": "ops@test.example",
            }
        ],
    )
    import_rows(
        unit,
        "contracts",
        [
            {
                "contract_id": f"ctr_{suffix}",
                "framework_id": "fw_wdc_print",
                "supplier_id": f"sup_{suffix}",
                "project_id": "proj_wdc_2025",
            }
        ],
    )
    import_rows(
        unit,
        "contract-lots",
        [
            {
                "contract_id": f"ctr_{suffix}",
                "lot_id": "lot_2",
                "effective_from": start.isoformat(),
                "effective_to": end.isoformat(),
            }
        ],
    )


def test_only_lots_in_effect_today_count(cpras_db: Database, database: Settings) -> None:
    with UnitOfWork(cpras_db, database) as unit:
        load(unit, "current")
        load(unit, "ended", ended=True)
        procurement = Procurement(unit)
        assert procurement.context("sup_current", date.today())["contracted_lots"] == [  # type: ignore[index]
            {"lot_id": "lot_2", "lot_code": "LOT2", "title": "Large Format"}
        ]
        assert procurement.context("sup_ended", date.today()) is None
        unit.rollback()


def test_an_import_is_all_or_nothing_and_names_the_bad_row(
    cpras_db: Database, database: Settings, tmp_path: Path
) -> None:
    rows = [
        {"supplier_id": "sup_imp_1", "company_name": "One", "primary_email": "one@example.com"},
        {"supplier_id": "sup_imp_2", "company_name": "Two", "primary_email": "not-an-address"},
    ]
    path = tmp_path / "suppliers.json"
    path.write_text(json.dumps(rows))
    with UnitOfWork(cpras_db, database) as unit, pytest.raises(ProcurementImportError) as refused:
        import_file(unit, "suppliers", path)
    assert str(refused.value) == f"{path}, row 2: primary_email 'not-an-address' is not an e-mail address"
    with UnitOfWork(cpras_db, database) as unit:
        assert unit.session.get(Supplier, "sup_imp_1") is None


def test_an_import_refuses_a_dangling_reference_and_a_lot_of_another_framework(
    cpras_db: Database, database: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "contracts.csv"
    path.write_text("contract_id,framework_id,supplier_id,project_id\nctr_x,fw_wdc_print,sup_missing,proj_wdc_2025\n")
    with (
        UnitOfWork(cpras_db, database) as unit,
        pytest.raises(ProcurementImportError, match="row 1: supplier_id sup_missing is not a known supplier"),
    ):
        import_file(unit, "contracts", path)
    with UnitOfWork(cpras_db, database) as unit:
        import_rows(unit, "frameworks", [{"framework_id": "fw_other", "title": "Other"}])
        import_rows(
            unit, "lots", [{"lot_id": "lot_other", "framework_id": "fw_other", "lot_code": "O1", "title": "Other"}]
        )
        with pytest.raises(ProcurementImportError, match="lot lot_other is not of framework fw_wdc_print"):
            import_rows(
                unit,
                "contract-lots",
                [
                    {
                        "contract_id": "ctr_789",
                        "lot_id": "lot_other",
                        "effective_from": "2025-01-01",
                        "effective_to": "2025-12-31",
                    }
                ],
            )
        unit.rollback()


def test_an_import_from_csv_updates_by_id(cpras_db: Database, database: Settings, tmp_path: Path) -> None:
    path = tmp_path / "buyers.csv"
    path.write_text("buyer_id,org_name,email\nbuyer_imp,Old Name,a@example.gov.uk\n")
    with UnitOfWork(cpras_db, database) as unit:
        assert import_file(unit, "buyers", path) == 1
        path.write_text("buyer_id,org_name,email\nbuyer_imp,New Name,a@example.gov.uk\n")
        assert import_file(unit, "buyers", path) == 1
        buyer = Procurement(unit).buyer("buyer_imp")
        assert buyer is not None
        assert buyer.org_name == "New Name"
        unit.rollback()
