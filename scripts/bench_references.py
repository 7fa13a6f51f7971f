"""Reference servers for scripts/bench, serving the same bytes as the project's measured operation.

- `stock_app()`: stock Connexion FlaskApp on the same spec, every operation bound to a
  handler that does no work at all, any bearer token accepted without verification.
- `bare_flask`: a bare Flask app answering the same path with the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import connexion
import flask
from connexion.resolver import Resolver

from models.order_accept.demo import catalogue

ROOT = Path(__file__).resolve().parent.parent
MEASURED_ID = "AZ-700"
# The measured product as the project serves it: its demo-catalogue entry without the
# columns the DTO leaves out, so the references answer with the same bytes.
PRODUCT = {
    key: value
    for key, value in next(item for item in catalogue() if item["externalProductId"] == MEASURED_ID).items()
    if key not in ("isActive", "isSoftDeleted")
}
BODY = json.dumps(PRODUCT, separators=(",", ":"))


def accept_any_token(token: str) -> dict[str, Any]:
    """Stock reference security: no verification at all."""
    return {"sub": "bench"}


def no_work(*_args: Any, **_kwargs: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    return PRODUCT, 200, {"Content-Type": "application/json"}


def stock_app() -> connexion.FlaskApp:
    app = connexion.FlaskApp(__name__, specification_dir=ROOT / "specs")
    app.add_api(
        "order_accept.yaml",
        base_path="/order-accept",
        resolver=Resolver(function_resolver=lambda _operation_id: no_work),
        strict_validation=True,
    )
    return app


bare_flask = flask.Flask(__name__)


@bare_flask.get("/order-accept/api/products/<product_id>")
def product(product_id: str) -> flask.Response:
    return flask.Response(BODY, mimetype="application/json")
