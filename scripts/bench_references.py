"""Reference servers for scripts/bench, serving the same bytes as the project's measured operation.

- `stock_app()`: stock Connexion FlaskApp on the same spec, every operation bound to a
  handler that does no work at all, any bearer token accepted without verification.
- `bare_flask`: a bare Flask app answering the same path with the same bytes.
- `fastapi_app()`: a FastAPI app doing the project's real work on that path: it verifies
  the bearer token, checks the path parameter as the spec constrains it, reads the product
  from the same database and answers through a response model with the same fields.
- `stock_mihwar_app()`: stock Connexion FlaskApp serving Mihwar's ingestion with the
  project's own ingestion service behind it (the same work, inserts and event included),
  the API key checked as the project checks it: the stock request path, doing real work.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the endpoint and
# dependencies defined inside `fastapi_app()` at runtime, and could not resolve them as strings.
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import connexion
import fastapi
import flask
from connexion.resolver import Resolver
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry
from pydantic import AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy import Connection, create_engine, select

from models.order_accept.demo import catalogue
from models.order_accept.tables import Product

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


class ProductDto(BaseModel):
    """The spec's ProductDto: read from a row by column name, written in camelCase."""

    model_config = ConfigDict(from_attributes=True, alias_generator=AliasGenerator(serialization_alias=to_camel))

    external_product_id: str
    name: str
    category: str
    vendor: str
    image_url: str | None
    discount: int
    billing_period: str
    is_subscription: bool
    price: float


def fastapi_app() -> fastapi.FastAPI:
    """The same real work as the project's GET /order-accept/api/products/{id}, written as
    FastAPI's tutorials write it, so the bench compares the project with what a FastAPI user
    would ship rather than with a no-op.

    - The bearer token is verified on every request (no cache, unlike the project) by an
      `async def` dependency, as in FastAPI's OAuth2/JWT tutorial: joserfc, HS256 only,
      `exp` required, the project's 30 s leeway, the project's secret
      (`ORDER_ACCEPT_JWT_SECRET`, else the per-machine file in `INSTANCE_DIR`); 401 otherwise.
    - The path parameter has the spec's constraints on ExternalProductId (FastAPI answers
      422 for a bad one).
    - The endpoint is a sync `def`, as FastAPI's docs advise for a synchronous library such
      as SQLAlchemy's (non-async) engine; FastAPI runs it, and the connection dependency, in
      its thread pool. It reads the product with a Core `select` on a connection from an
      engine created once, handed over by a `yield` dependency as in FastAPI's SQL tutorial,
      and returns it through the response model; 404 when missing.

    A factory rather than module-level state, so the other reference servers, which import
    this module, neither read the secret nor open the database.
    """
    instance_dir = Path(os.environ.get("INSTANCE_DIR") or ROOT / "var")
    secret = os.environ.get("ORDER_ACCEPT_JWT_SECRET") or (instance_dir / "order_accept_jwt_secret").read_text().strip()
    key = OctKey.import_key(secret)
    claims_registry = JWTClaimsRegistry(leeway=30, exp={"essential": True})
    engine = create_engine(os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'service.db'}")
    products = Product.__table__
    bearer = HTTPBearer(auto_error=False)

    async def verified_claims(
        credentials: Annotated[HTTPAuthorizationCredentials | None, fastapi.Depends(bearer)],
    ) -> dict[str, Any]:
        unauthorized = fastapi.HTTPException(401, "The token is not valid.", headers={"WWW-Authenticate": "Bearer"})
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized
        try:
            claims = dict(jwt.decode(credentials.credentials, key, algorithms=["HS256"]).claims)
            claims_registry.validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise unauthorized from exc
        return claims

    def connection() -> Iterator[Connection]:
        with engine.connect() as conn:
            yield conn

    app = fastapi.FastAPI()

    @app.get("/order-accept/api/products/{product_id}")
    def get_product(
        product_id: Annotated[str, fastapi.Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")],
        _claims: Annotated[dict[str, Any], fastapi.Depends(verified_claims)],
        conn: Annotated[Connection, fastapi.Depends(connection)],
    ) -> ProductDto:
        row = conn.execute(
            select(products).where(
                products.c.external_product_id == product_id,
                products.c.is_active.is_(True),
                products.c.is_soft_deleted.is_(False),
            )
        ).first()
        if row is None:
            raise fastapi.HTTPException(404, f"Product {product_id} was not found.")
        return ProductDto.model_validate(row)

    return app


@functools.cache
def _mihwar() -> tuple[Any, Any, Any]:
    """The project's settings, database and Mihwar settings, from the environment."""
    from core.api import configure, registered
    from core.config import Settings
    from core.database import Database
    from handlers.mihwar.api import API

    settings = configure(Settings.from_env(), registered())
    return settings, Database(settings.database_url), API.config(settings)


def mihwar_key_info(token: str) -> dict[str, Any] | None:
    """Stock reference security for Mihwar: the API key checked as the project checks it."""
    from core.problems import ApiProblem
    from core.unit_of_work import UnitOfWork
    from models.mihwar.keys import Tenants

    settings, database, _ = _mihwar()
    try:
        with UnitOfWork(database, settings) as unit:
            holder = Tenants(unit).authenticate(token)
            unit.commit()
    except ApiProblem:
        return None
    return {"sub": holder.organization_id, "key_id": holder.key_id}


def stock_ingest(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The project's ingestion (its service, one transaction), behind the stock request path."""
    from core.unit_of_work import UnitOfWork
    from handlers.mihwar import dto
    from models.mihwar.ingestion import Ingestion
    from models.mihwar.keys import KeyHolder

    settings, database, mihwar = _mihwar()
    with UnitOfWork(database, settings) as unit:
        result = Ingestion(unit, mihwar).ingest(KeyHolder(token_info["sub"], token_info["key_id"]), body)
        unit.commit()
    return dto.ingestion(result), 201, {"Content-Type": "application/json"}


def stock_mihwar_app() -> connexion.FlaskApp:
    import yaml

    from core.api import only_operations

    document = yaml.safe_load((ROOT / "specs" / "mihwar.yaml").read_text())
    app = connexion.FlaskApp(__name__)
    app.add_api(
        only_operations(document, {"ingestOrderLines"}),
        base_path="/mihwar",
        resolver=Resolver(function_resolver=lambda _operation_id: stock_ingest),
        strict_validation=True,
    )
    return app
