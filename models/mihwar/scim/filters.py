"""SCIM filters (RFC 7644 §3.4.2.2) as SQL: a parsed filter becomes one WHERE clause.

scim2-models parses the filter and binds each attribute path to the resource's schema
(letter case of names and operators does not matter, `members eq "…"` means
`members.value`). Here each bound attribute becomes a column, or an EXISTS over the
emails or memberships table for the multi-valued ones, every value a bound parameter.
Attributes compared as the schema says: `userName`, `displayName` and email addresses
whatever their case, ids and `externalId` exactly. An attribute of the schema that Mihwar
does not keep (`title`, say) has no value, so a comparison with it matches nothing and
`pr` is false, as §3.4.2.2 says of attributes without a value. A filter that does not
parse, names no attribute of the schema, or compares a value of the wrong type raises
`InvalidFilterException` (400 `invalidFilter`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from scim2_models import InvalidFilterException, ScimFilter, SearchRequest
from scim2_models.path import (
    AttributeBinding,
    CompareOperator,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import Boolean, ColumnElement, and_, exists, false, func, not_, or_, select, true

from models.mihwar.scim.resources import ScimGroup, ScimUser
from models.mihwar.tables import AppUser, Group, GroupMember, UserEmail

Clause = ColumnElement[bool]


@dataclass(frozen=True)
class Column:
    """Where an attribute is kept, and how its values compare."""

    expression: ColumnElement[Any]
    kind: type = str
    folded: bool = False  # kept in lower case: compared whatever the letter case


@dataclass(frozen=True)
class Schema:
    """How one resource type's attributes map to SQL: plain columns by (attribute,
    sub-attribute), and multi-valued attributes as a function from a condition on their
    table's columns to an EXISTS."""

    model: Any
    columns: dict[tuple[str, str | None], Column]
    multi: dict[str, tuple[dict[str, Column], Callable[[Clause], Clause]]]


def _emails(condition: Clause) -> Clause:
    return exists(select(UserEmail.id).where(UserEmail.user_id == AppUser.id, condition))


def _groups(condition: Clause) -> Clause:
    return exists(select(GroupMember.group_id).where(GroupMember.user_id == AppUser.id, condition))


def _members(condition: Clause) -> Clause:
    return exists(select(GroupMember.user_id).where(GroupMember.group_id == Group.id, condition))


USERS = Schema(
    ScimUser,
    {
        ("id", None): Column(AppUser.id.expression),
        ("user_name", None): Column(AppUser.user_name_key.expression, folded=True),
        ("external_id", None): Column(AppUser.external_id.expression),
        ("display_name", None): Column(func.lower(AppUser.display_name), folded=True),
        ("name", "formatted"): Column(func.lower(AppUser.formatted_name), folded=True),
        ("name", "given_name"): Column(func.lower(AppUser.given_name), folded=True),
        ("name", "family_name"): Column(func.lower(AppUser.family_name), folded=True),
        ("active", None): Column(AppUser.active_stated.expression, bool),
        ("meta", "created"): Column(AppUser.created_at.expression, datetime),
        ("meta", "last_modified"): Column(AppUser.updated_at.expression, datetime),
    },
    {
        "emails": (
            {
                "value": Column(UserEmail.value_key.expression, folded=True),
                "type": Column(func.lower(UserEmail.type), folded=True),
                "primary": Column(UserEmail.primary.expression, bool),
            },
            _emails,
        ),
        "groups": ({"value": Column(GroupMember.group_id.expression)}, _groups),
    },
)

GROUPS = Schema(
    ScimGroup,
    {
        ("id", None): Column(Group.id.expression),
        ("display_name", None): Column(Group.display_name_key.expression, folded=True),
        ("external_id", None): Column(Group.external_id.expression),
        ("meta", "created"): Column(Group.created_at.expression, datetime),
        ("meta", "last_modified"): Column(Group.updated_at.expression, datetime),
    },
    {"members": ({"value": Column(GroupMember.user_id.expression)}, _members)},
)


def where(schema: Schema, text: str, *, across_types: bool = False) -> Clause:
    """The WHERE clause of a SCIM filter on `schema`'s resources. Searching `across_types`
    (the root's /.search), an attribute this resource type lacks is false, as RFC 7644
    §3.4.2.1 says; `check_across_types` has already refused one that no type has."""
    parsed = ScimFilter[schema.model](text)  # type: ignore[name-defined]
    return _ToSql(schema, parsed, strict=not across_types).visit(parsed.ast)


def check_across_types(text: str) -> None:
    """A filter for every resource type at once: 400 `invalidFilter` unless one has each attribute."""
    try:
        SearchRequest[ScimUser | ScimGroup].model_validate({"filter": text})
    except ValidationError as exc:
        raise InvalidFilterException(detail=str(exc.errors()[0].get("msg", "invalid filter"))) from None


class _ToSql(FilterVisitor[Clause]):
    def __init__(self, schema: Schema, parsed: ScimFilter[Any], strict: bool = True) -> None:
        self.schema = schema
        self.parsed = parsed
        self.strict = strict

    def visit_comparison(self, node: Comparison) -> Clause:
        binding = self.parsed.resolve_comparison(node.attr_path, strict=self.strict)
        if binding is None:  # not an attribute of this type, searching across types
            return false()
        bound = _bound(binding, node.attr_path)
        if bound.field_name in self.schema.multi:
            columns, wrap = self.schema.multi[bound.field_name]
            column = columns.get(bound.sub_field_name or "value")
            return _absent(node.op) if column is None else wrap(_compare(column, node.op, node.value))
        column = self.schema.columns.get((bound.field_name, bound.sub_field_name))
        return _absent(node.op) if column is None else _compare(column, node.op, node.value)

    def visit_present(self, node: Present) -> Clause:
        binding = self.parsed.resolve(node.attr_path, strict=self.strict)
        if binding is None:
            return false()
        bound = _bound(binding, node.attr_path)
        if bound.field_name in self.schema.multi:
            columns, wrap = self.schema.multi[bound.field_name]
            column = columns.get(bound.sub_field_name or "value")
            return false() if column is None else wrap(column.expression.is_not(None))
        column = self.schema.columns.get((bound.field_name, bound.sub_field_name))
        if column is None:
            return false()
        if column.kind is str:
            return and_(column.expression.is_not(None), column.expression != "")
        return column.expression.is_not(None)

    def visit_not(self, node: Not) -> Clause:
        return _not(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> Clause:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_value_path(self, node: ValuePath) -> Clause:
        """`emails[type eq "work" and value co "@x"]`: one email meets the whole condition."""
        binding = self.parsed.resolve(node.attr_path, strict=self.strict)
        if binding is None:
            return false()
        bound = _bound(binding, node.attr_path)
        if bound.field_name not in self.schema.multi:
            raise InvalidFilterException(detail=f"{node.attr_path} has no values to filter by")
        columns, wrap = self.schema.multi[bound.field_name]
        return wrap(_Within(columns).visit(node.val_filter))


class _Within(FilterVisitor[Clause]):
    """The condition inside brackets, on the sub-attributes of one value."""

    def __init__(self, columns: dict[str, Column]) -> None:
        self.columns = columns

    def _column(self, name: str) -> Column | None:
        return next((column for key, column in self.columns.items() if key.lower() == name.lower()), None)

    def visit_comparison(self, node: Comparison) -> Clause:
        column = self._column(node.attr_path.attr)
        return _absent(node.op) if column is None else _compare(column, node.op, node.value)

    def visit_present(self, node: Present) -> Clause:
        column = self._column(node.attr_path.attr)
        return false() if column is None else column.expression.is_not(None)

    def visit_not(self, node: Not) -> Clause:
        return _not(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> Clause:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_value_path(self, node: ValuePath) -> Clause:
        raise InvalidFilterException(detail="A value filter cannot hold another.")


def _not(clause: Clause) -> Clause:
    """RFC 7644's `not`: a comparison with an attribute without a value is false, so its
    negation is true, where SQL's NOT of a comparison with NULL is NULL (not true)."""
    return not_(func.coalesce(clause, false(), type_=Boolean))


def _bound(binding: AttributeBinding | None, path: object) -> AttributeBinding:
    if binding is None:
        raise InvalidFilterException(detail=f"{path} is no attribute of this resource.")
    return binding


def _absent(op: CompareOperator) -> Clause:
    """A comparison with an attribute Mihwar keeps no value of: only `ne` holds."""
    return true() if op == CompareOperator.ne else false()


_LIKE = {CompareOperator.co: "%{}%", CompareOperator.sw: "{}%", CompareOperator.ew: "%{}"}


def _compare(column: Column, op: CompareOperator, value: Any) -> Clause:
    """`column op value`, with the value checked against the column's kind."""
    value = _typed(column, op, value)
    expression = column.expression
    if value is None:  # `eq null` is `not pr`, as §3.4.2.2 says
        if op == CompareOperator.eq:
            return expression.is_(None)
        if op == CompareOperator.ne:
            return expression.is_not(None)
        raise InvalidFilterException(detail=f"{op.value} cannot compare with null.")
    if op in _LIKE:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expression.like(_LIKE[op].format(escaped), escape="\\")
    comparisons: dict[CompareOperator, Callable[[], Clause]] = {
        CompareOperator.eq: lambda: expression == value,
        CompareOperator.ne: lambda: or_(expression != value, expression.is_(None)),
        CompareOperator.gt: lambda: expression > value,
        CompareOperator.ge: lambda: expression >= value,
        CompareOperator.lt: lambda: expression < value,
        CompareOperator.le: lambda: expression <= value,
    }
    return comparisons[op]()


def _typed(column: Column, op: CompareOperator, value: Any) -> Any:
    if value is None:
        return None
    if column.kind is bool:
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(detail="A boolean is compared with eq or ne, and true or false.")
        return value
    if column.kind is datetime:
        if op in _LIKE:
            raise InvalidFilterException(detail=f"A date cannot be compared with {op.value}.")
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFilterException(detail=f"{value!r} is not a date and time (RFC 3339).") from None
    if not isinstance(value, str):
        raise InvalidFilterException(detail=f"{value!r} is not a string.")
    return value.lower() if column.folded else value
