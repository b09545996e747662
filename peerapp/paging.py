"""Every list is paged the same way: keyset pages of 50 rows, one house helper.

    page = paged(query, Referral.referred_on.desc(), Referral.id.desc())
    return render("referrals/list.html", page=page, referrals=page.rows)

and in the template ``{% include "_pager.html" %}`` (it reads ``page``).

Keyset, not OFFSET: the next page starts *after the last row shown*, so page 40
costs what page 1 costs (an index range, never skipping 2,000 rows), and a row
added meanwhile does not shift the list. The URL carries only the last row's
id (``?after=123``, or ``?before=123`` going back), never a sort value such as a
name: ids are not personal data, names are (SECURITY.md). The helper reads the
sort values of that row back through the same query, so a row the person may
not see is never a starting point (they get the first page).

A list people open all day (the referral lists and queues) is a
:class:`ListQuery` instead: the same pages, with its SQL built once.

The ordering must end with the model's primary key, so it is total. Other query
parameters (non-identifying filters: state, team) are kept in the pager's links.
The total is counted cheaply: at most ``COUNT_CAP`` rows are counted, beyond
that the page says "more than 10,000".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import peewee as pw
from flask import has_request_context, request

from .db import SqlOnce, db
from .pages import here

PAGE_SIZE = 50
COUNT_CAP = 10_000


@dataclass
class Page:
    rows: list
    total: int | None              # None when not counted
    total_capped: bool = False     # True: there are more than ``total``
    after: int | None = None       # id to ask for the next page with, None on the last page
    before: int | None = None      # id to ask for the previous page with, None on the first page
    args: dict = field(default_factory=dict)  # the request's other query parameters
    size: int = PAGE_SIZE

    @property
    def has_more(self) -> bool:
        return self.after is not None

    @property
    def is_first(self) -> bool:
        return self.before is None

    def url(self, **cursor) -> str:
        """The current path with the filters kept and the cursor replaced."""
        from urllib.parse import urlencode
        params = {k: v for k, v in self.args.items() if k not in ("after", "before")}
        params.update({k: v for k, v in cursor.items() if v is not None})
        query = urlencode(params, doseq=True)
        return here() + ("?" + query if query else "")

    # Cached: the pager asks for each link up to three times.
    @cached_property
    def next_url(self) -> str | None:
        return self.url(after=self.after) if self.after is not None else None

    @cached_property
    def previous_url(self) -> str | None:
        return self.url(before=self.before) if self.before is not None else None

    @property
    def total_text(self) -> str:
        if self.total is None:
            return ""
        if self.total_capped:
            return f"more than {self.total:,}"
        return f"{self.total:,}"


def _orderings(order) -> list[tuple[pw.Node, bool]]:
    """(column, descending) for each ordering term; a bare field counts as ascending."""
    found = []
    for term in order:
        if isinstance(term, pw.Ordering):
            found.append((term.node, term.direction.upper() == "DESC"))
        else:
            found.append((term, False))
    return found


def _after(keys: list[tuple[pw.Node, bool]], values: list, reverse: bool) -> pw.Expression:
    """Rows strictly after ``values`` in the ordering (before, when ``reverse``).

    Written as (a > x) OR (a = x AND b > y) ...: it works with mixed directions
    and on both engines, and the first term bounds the index range."""
    clauses = None
    for i, (column, descending) in enumerate(keys):
        forward = descending == reverse  # ascending and not reversed -> '>'
        value = values[i]
        if value is None:
            # NULLs: SQLite and PostgreSQL disagree where they sort; sort keys
            # should be NOT NULL columns. A NULL key simply stops the chain here.
            step = None
        else:
            step = (column > value) if forward else (column < value)
        prefix = [keys[j][0] == values[j] if values[j] is not None else keys[j][0].is_null()
                  for j in range(i)]
        if step is not None:
            term = step
            for p in prefix:
                term = p & term
            clauses = term if clauses is None else (clauses | term)
    return clauses


def _each_use(values: list) -> list:
    """A cursor row's sort values once for every place :func:`_after_each_use` puts
    them in the SQL, in that order."""
    return [value for i in range(len(values)) for value in (values[i], *values[:i])]


def _after_each_use(keys: list[tuple[pw.Node, bool]], uses, reverse: bool) -> pw.Expression:
    """:func:`_after` for NOT NULL sort keys, taking each value from ``uses`` (an
    iterator over :func:`_each_use`) at each place it goes: the same condition, with
    a parameter of its own for every use (as ``db.SqlOnce`` needs)."""
    clauses = None
    for i, (column, descending) in enumerate(keys):
        forward = descending == reverse
        value = next(uses)
        term = (column > value) if forward else (column < value)
        for j in range(i):
            term = (keys[j][0] == next(uses)) & term
        clauses = term if clauses is None else (clauses | term)
    return clauses


def count_capped(query: pw.SelectQuery, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counting at most ``cap + 1`` of them (an index walk of bounded length)."""
    n = query.clone().order_by().limit(cap + 1).count()
    return (cap, True) if n > cap else (n, False)


def _cursor_arg(name: str) -> int | None:
    # A POST-filtered list (names in the form, never the URL) pages by POSTing
    # the same form again with after/before (see _pager.html's pager_form).
    raw = request.values.get(name, "")
    if raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


def without_joins(query: pw.ModelSelect) -> pw.ModelSelect:
    """``query``'s rows without its joins, to count them: only for a query whose joins
    add columns to show (inner joins along NOT NULL foreign keys: one match a row)
    and whose WHERE names only its own model's columns. Counting a team's 2,000
    referrals with the service user and team joined took 6 ms; from the referral's
    own index, 0.2 ms."""
    model = query.model
    counted = model.select(model._meta.primary_key)
    return counted if query._where is None else counted.where(query._where)


def paged(query: pw.ModelSelect, *order, size: int = PAGE_SIZE, count: bool = True,
          after: int | None = None, before: int | None = None,
          count_query: pw.ModelSelect | None = None) -> Page:
    """One page of ``query`` in ``order`` (which must end with the primary key).

    ``after``/``before`` default to the request's ``?after=`` / ``?before=`` ids.
    Returns a :class:`Page`; ``count=False`` skips the total (e.g. a home panel);
    ``count_query`` counts the same rows more cheaply (see :func:`without_joins`)."""
    model = query.model
    keys = _orderings(order)
    if not keys or keys[-1][0] is not model._meta.primary_key:
        raise ValueError("paged(): the ordering must end with the primary key, e.g. Model.id.desc()")
    in_request = has_request_context()
    if in_request and after is None and before is None:
        after, before = _cursor_arg("after"), (_cursor_arg("before") if _cursor_arg("after") is None else None)
    base = query.clone()
    reverse = False
    cursor = after if after is not None else before
    where = None
    if cursor is not None:
        columns = [k[0] for k in keys]
        row = base.clone().order_by().where(model._meta.primary_key == cursor).select(*columns).limit(1).tuples()
        values = next(iter(row), None)
        if values is not None:
            reverse = before is not None and after is None
            where = _after(keys, list(values), reverse)
    ordering = [(c.desc() if d != reverse else c.asc()) for c, d in keys]
    page_query = base.order_by(*ordering).limit(size + 1)
    if where is not None:
        page_query = page_query.where(where)
    rows = list(page_query)
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    pk = model._meta.primary_key.name
    if reverse:
        # Going back: there is a next page (where we came from); a previous one if more.
        next_after = getattr(rows[-1], pk) if rows else None
        previous_before = getattr(rows[0], pk) if (rows and more) else None
    else:
        next_after = getattr(rows[-1], pk) if (rows and more) else None
        previous_before = getattr(rows[0], pk) if (rows and where is not None) else None
    total, capped = count_capped(count_query if count_query is not None else query) if count else (None, False)
    args = request.args.to_dict(flat=False) if in_request else {}
    return Page(rows=rows, total=total, total_capped=capped, after=next_after,
                before=previous_before, args=args, size=size)


def paged_list(rows: list, ident, size: int | None = None) -> Page:
    """One page of a list already worked out in Python (e.g. what is due, derived
    from schedules and responses, which no query can order), in the list's order.

    ``ident(row)`` is a row's non-personal integer id, the cursor in the URL as
    with :func:`paged`: ``?after=`` starts after that row, ``?before=`` ends before
    it; a cursor no longer in the list gives the first page. Counted exactly (the
    whole list is in hand)."""
    size = size or PAGE_SIZE
    after = before = None
    if has_request_context():
        after = _cursor_arg("after")
        before = _cursor_arg("before") if after is None else None
    idents = [ident(row) for row in rows]
    cursor = after if after is not None else before
    start = 0
    if cursor is not None and cursor in idents:
        at = idents.index(cursor)
        start = at + 1 if after is not None else max(at - size, 0)
    shown = rows[start:start + size]
    end = start + len(shown)
    args = request.args.to_dict(flat=False) if has_request_context() else {}
    return Page(rows=shown, total=len(rows), after=idents[end - 1] if end < len(rows) else None,
                before=idents[start] if start > 0 else None, args=args, size=size)


class ListQuery:
    """A list people open all day (a team's referrals, a queue), paged exactly as
    :func:`paged` pages a query, with its SQL built once per engine and shape
    (``db.SqlOnce``) and its rows read as plain tuples: peewee took ~0.4 ms to turn
    such a list's queries into SQL and ~10 us to make each row, on every visit.

    ``build(variant, *values)`` makes the list's query, selecting what a row shows
    in the order of ``row_type.__slots__`` (``row_type.from_values(values)`` makes a
    row from them, converted); ``count(variant, *values)`` makes the
    same rows for counting (e.g. :func:`without_joins`). Each value must reach the
    SQL as one parameter (``db.SqlOnce``); ``variant`` says which shape. ``order``
    ends with the primary key and names only NOT NULL columns."""

    # Text and whole numbers come from either driver as they are shown (these classes
    # exactly: a subclass may convert, as the service user's languages do).
    _AS_STORED = (pw.CharField, pw.TextField, pw.IntegerField, pw.AutoField)

    def __init__(self, build, count, *order, row_type, size: int = PAGE_SIZE):
        self.build, self.count, self.row_type, self.size = build, count, row_type, size
        self.keys = _orderings(order)
        if not all(isinstance(column, pw.Field) and not column.null for column, _ in self.keys):
            raise ValueError("ListQuery: the ordering must name NOT NULL columns")
        if not self.keys[-1][0].primary_key:
            raise ValueError("ListQuery: the ordering must end with the primary key")
        self._page = SqlOnce(self._page_query)
        self._cursor = SqlOnce(self._cursor_query)
        self._count = SqlOnce(self._count_query)
        self._converters: dict = {}

    def _page_query(self, variant, *values):
        shape, direction = variant
        uses = len(self.keys) * (len(self.keys) + 1) // 2 if direction else 0
        query = self.build(shape, *values[:len(values) - uses])
        reverse = direction == "before"
        query = query.order_by(*[(c.desc() if d != reverse else c.asc()) for c, d in self.keys])
        if direction:
            query = query.where(_after_each_use(self.keys, iter(values[-uses:]), reverse))
        return query.limit(self.size + 1)

    def _cursor_query(self, variant, *values):
        """The sort values of the cursor's row, read through the list's own query."""
        query = self.build(variant[0], *values[:-1]).order_by()
        return query.where(self.keys[-1][0] == values[-1]).select(*[c for c, _ in self.keys]).limit(1)

    def _count_query(self, variant, *values):
        capped = self.count(variant[0], *values).order_by().limit(COUNT_CAP + 1).select(pw.SQL("1"))
        return pw.Select([capped.alias("_wrapped")], [pw.fn.COUNT(pw.SQL("1"))]).bind(db)

    def _rows(self, cursor, shape, values) -> list:
        converters = self._converters.get(shape)
        if converters is None:
            # Each column's own conversion (dates from SQLite's text, a list from its
            # JSON), worked out once from the query (peewee keeps its columns there).
            columns = [node.node if isinstance(node, pw.Alias) else node
                       for node in self.build(shape, *values)._returning]
            converters = self._converters[shape] = [
                None if not isinstance(c, pw.Field) or type(c) in self._AS_STORED else c.python_value
                for c in columns]
            if len(converters) != len(self.row_type.__slots__):
                raise ValueError(f"{self.row_type.__name__}: a column for each of its values")
        make = self.row_type.from_values
        if not any(converters):
            return [make(row) for row in cursor]
        return [make([v if f is None or v is None else f(v) for f, v in zip(converters, row)]) for row in cursor]

    def page(self, *values, variant=None) -> Page:
        """One page of the list for ``values``: the request's ``?after=`` / ``?before=``
        as in :func:`paged`, and the total counted up to ``COUNT_CAP``."""
        after = _cursor_arg("after")
        before = _cursor_arg("before") if after is None else None
        cursor, direction, uses = (after if after is not None else before), None, []
        if cursor is not None:
            found = self._cursor.rows(*values, cursor, variant=(variant,)).fetchone()
            if found is not None:
                direction = "after" if after is not None else "before"
                uses = _each_use(list(found))
        rows = self._rows(self._page.rows(*values, *uses, variant=(variant, direction)), variant, values)
        more = len(rows) > self.size
        rows = rows[:self.size]
        pk = self.keys[-1][0].name
        if direction == "before":
            rows.reverse()
            next_after = getattr(rows[-1], pk) if rows else None
            previous_before = getattr(rows[0], pk) if (rows and more) else None
        else:
            next_after = getattr(rows[-1], pk) if (rows and more) else None
            previous_before = getattr(rows[0], pk) if (rows and direction) else None
        counted = self._count.rows(*values, variant=(variant,)).fetchone()[0]
        total, capped = (COUNT_CAP, True) if counted > COUNT_CAP else (counted, False)
        return Page(rows=rows, total=total, total_capped=capped, after=next_after, before=previous_before,
                    args=request.args.to_dict(flat=False), size=self.size)
