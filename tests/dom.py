"""Assert HTML by structure, not by regular expressions over markup.

(Named dom.py, not html.py: tests/ comes first on sys.path under pytest, and a
tests/html.py would stand in for the standard library's ``html`` package.)

    page = parse(response)                  # a response, or a string of HTML
    page.one("#one-time-password").text     # exactly one match, else the test fails
    page.select("tr[data-user-id]")         # every match, in document order
    page.select_one("form[method=post] textarea[name=text]")
    table_rows(page.one("table"))           # [["Row head", "cell", ...], ...]
    form = forms(page)[0]                   # the page's POST forms
    form.values()                           # [(name, value)] as a browser sends it untouched
    form.label_of(form.control("email"))    # the text of the control's <label for>
    links(page)                             # [(href, text)]

Selectors are a small CSS subset: ``tag``, ``#id``, ``.class``, ``[attr]``,
``[attr=value]`` (quotes optional), ``[attr^=value]``, ``[attr$=value]``, ``[attr*=value]``, compounds of
these (``input.nhsuk-input[name=q]``), and the descendant (space) and child (``>``)
combinators. Built on the standard library's ``html.parser``: no dependency.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Whitespace runs as one space, trimmed: text as a person reads it."""
    return _SPACE.sub(" ", text).strip()


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Node | None" = None):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def __repr__(self) -> str:
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items())
        return f"<{self.tag}{' ' + shown if shown else ''}>"

    # -- attributes and text ---------------------------------------------------
    def __getitem__(self, name: str) -> str:
        """An attribute that must be there (KeyError otherwise)."""
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.attrs

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    @property
    def raw_text(self) -> str:
        """Every text inside, as written (a textarea's value: see ``value``)."""
        return "".join(c if isinstance(c, str) else c.raw_text for c in self.children)

    @property
    def text(self) -> str:
        """The text inside, whitespace squashed (elements' texts joined by a space)."""
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else " " + child.text + " ")
        return squash("".join(parts))

    @property
    def value(self) -> str:
        """A control's value as a browser reads it: an input's ``value``, a textarea's
        text (the newline right after <textarea> dropped), a select's chosen option."""
        if self.tag == "textarea":
            return self.raw_text.replace("\r\n", "\n").removeprefix("\n")
        if self.tag == "select":
            chosen = self.chosen_option()
            return "" if chosen is None else chosen.value
        if self.tag == "option":
            return self.attrs["value"] if "value" in self.attrs else self.text
        return self.attrs.get("value") or ""

    def chosen_option(self) -> "Node | None":
        options = self.select("option")
        return next((o for o in options if o.has("selected")), options[0] if options else None)

    # -- walking -----------------------------------------------------------------
    def iter(self):
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def closest(self, selector: str) -> "Node | None":
        steps = _parse_compound(selector)
        return next((a for a in self.ancestors() if _matches(a, steps)), None)

    # -- selecting ---------------------------------------------------------------
    def select(self, selector: str) -> list["Node"]:
        """Every element matching the selector (comma-separated alternatives allowed)."""
        found: list[Node] = []
        for alternative in selector.split(","):
            chain = _parse(alternative)
            found += [n for n in self.iter() if _matches_chain(n, chain, self) and n not in found]
        order = {id(n): i for i, n in enumerate(self.iter())}
        return sorted(found, key=lambda n: order[id(n)])

    def select_one(self, selector: str) -> "Node | None":
        found = self.select(selector)
        return found[0] if found else None

    def one(self, selector: str) -> "Node":
        """The one element matching: a test fails when there are none, or several."""
        found = self.select(selector)
        assert len(found) == 1, f"expected one {selector!r}, found {len(found)}: {found[:5]}"
        return found[0]

    def texts(self, selector: str) -> list[str]:
        return [n.text for n in self.select(selector)]

    def ids(self) -> set[str]:
        return {n.id for n in self.iter() if n.id}


# -- selectors -----------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<tag>^[a-zA-Z][\w-]*|^\*)
  | \#(?P<id>[\w-]+)
  | \.(?P<cls>[\w-]+)
  | \[\s*(?P<attr>[\w:-]+)\s*(?:(?P<op>[\^$*]?=)\s*(?P<val>"[^"]*"|'[^']*'|[^\]\s]+)\s*)?\]
""", re.X)


def _parse_compound(text: str) -> list[tuple]:
    steps, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos) if pos else _TOKEN.match(text)
        assert match and match.end() > pos, f"selector not understood at {text[pos:]!r}"
        if match["tag"]:
            steps.append(("tag", match["tag"].lower()))
        elif match["id"]:
            steps.append(("attr", "id", "=", match["id"]))
        elif match["cls"]:
            steps.append(("class", match["cls"]))
        else:
            value = match["val"]
            if value and value[0] in "\"'":
                value = value[1:-1]
            steps.append(("attr", match["attr"].lower(), match["op"], value))
        pos = match.end()
        text_rest = text[pos:]
        if text_rest and text_rest[0] not in "#.[":
            raise AssertionError(f"selector not understood at {text_rest!r}")
    return steps


def _parse(selector: str) -> list[tuple[str, list]]:
    """[(combinator, compound)], the first combinator being ''."""
    parts = re.findall(r">|[^\s>]+(?:\[[^\]]*\])*[^\s>]*", selector.strip())
    chain, combinator = [], " "
    for part in parts:
        if part == ">":
            combinator = ">"
            continue
        chain.append((combinator, _parse_compound(part)))
        combinator = " "
    assert chain, f"empty selector {selector!r}"
    return chain


def _matches(node: Node, steps: list[tuple]) -> bool:
    for step in steps:
        if step[0] == "tag":
            if step[1] != "*" and node.tag != step[1]:
                return False
        elif step[0] == "class":
            if step[1] not in node.classes:
                return False
        else:
            _, name, op, value = step
            if name not in node.attrs:
                return False
            have = node.attrs[name]
            if op == "=" and have != value or op == "^=" and not have.startswith(value) \
                    or op == "$=" and not have.endswith(value) or op == "*=" and value not in have:
                return False
    return True


def _matches_chain(node: Node, chain: list, scope: Node) -> bool:
    combinator, steps = chain[-1]
    if not _matches(node, steps):
        return False
    if len(chain) == 1:
        return True
    rest = chain[:-1]
    if combinator == ">":
        parent = node.parent
        return parent is not None and parent is not scope and _matches_chain(parent, rest, scope)
    for ancestor in node.ancestors():
        if ancestor is scope:
            return False
        if _matches_chain(ancestor, rest, scope):
            return True
    return False


# -- building ------------------------------------------------------------------------
class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: "" if v is None else v for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: "" if v is None else v for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page) -> Node:
    """The document of a response (anything with ``get_data``), a string, or a Node."""
    if isinstance(page, Node):
        return page
    builder = _Builder()
    builder.feed(page.get_data(as_text=True) if hasattr(page, "get_data") else page)
    builder.close()
    return builder.root


def text(page) -> str:
    """The whole page's text as a person reads it (whitespace squashed)."""
    return parse(page).text


# -- tables, links, forms --------------------------------------------------------------
def table_rows(table, *, head: bool = False) -> list[list[str]]:
    """Each row of a table (or of every table in a page) as its cells' texts; header
    rows (all <th>, in <thead>) only with ``head=True``."""
    rows = []
    for tr in parse(table).select("tr") if not isinstance(table, Node) or table.tag != "tr" else [table]:
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("th", "td")]
        in_head = tr.closest("thead") is not None or (cells and all(c.tag == "th" for c in cells))
        if in_head and not head:
            continue
        rows.append([c.text for c in cells])
    return rows


def rows_by_head(table) -> dict[str, list[str]]:
    """{row header text: [cell texts]} for rows led by <th scope="row">."""
    found = {}
    for tr in parse(table).select("tr"):
        head = tr.select_one("th[scope=row]")
        if head is not None:
            found[head.text] = [td.text for td in tr.select("td")]
    return found


def links(page) -> list[tuple[str, str]]:
    """(href, text) of every link."""
    return [(a.get("href"), a.text) for a in parse(page).select("a[href]")]


CONTROLS = ("input", "select", "textarea", "button")


class Form:
    def __init__(self, node: Node, root: Node):
        self.node = node
        self.root = root

    def __repr__(self) -> str:
        return f"<Form {self.method} {self.action!r}>"

    @property
    def action(self) -> str:
        return self.node.get("action") or ""

    @property
    def method(self) -> str:
        return (self.node.get("method") or "get").lower()

    @property
    def controls(self) -> list[Node]:
        """Every named control inside the form (and outside it with form="its id")."""
        inside = [n for n in self.node.iter() if n.tag in CONTROLS and n.get("name") is not None]
        if self.node.id:
            inside += [n for n in self.root.select(f"[form={self.node.id}]") if n.tag in CONTROLS and n not in inside]
        return inside

    def control(self, name: str) -> Node:
        found = [c for c in self.controls if c.get("name") == name]
        assert found, f"no control named {name!r} in {self}"
        return found[0]

    def names(self) -> list[str]:
        return list(dict.fromkeys(c.get("name") for c in self.controls))

    def values(self, *, pressed: bool = False) -> list[tuple[str, str]]:
        """What a browser sends when the form is submitted untouched: text inputs and
        hidden fields, checked boxes and radios, each select's chosen option, textareas;
        with ``pressed``, the first submit button's name and value too."""
        sent, pressed_one = [], not pressed
        for c in self.controls:
            name, kind = c.get("name"), (c.get("type") or "").lower()
            if c.has("disabled"):
                continue
            if c.tag == "button" or (c.tag == "input" and kind in ("submit", "image", "button", "reset")):
                if not pressed_one and kind in ("submit", "image", "") and name:
                    sent.append((name, c.get("value") or ""))
                    pressed_one = True
                continue
            if c.tag == "input" and kind in ("checkbox", "radio"):
                if c.has("checked"):
                    sent.append((name, c.get("value") if c.has("value") else "on"))
                continue
            if c.tag == "input" and kind == "file":
                continue
            if c.tag == "select":
                if c.has("multiple"):
                    sent += [(name, o.value) for o in c.select("option") if o.has("selected")]
                    continue
                if c.chosen_option() is None:
                    continue
            sent.append((name, c.value))
        return sent

    def fields(self) -> dict[str, str]:
        """{name: value} of what the form sends untouched (the first value of each name)."""
        found: dict[str, str] = {}
        for name, value in self.values():
            found.setdefault(name, value)
        return found

    def label_of(self, control: Node) -> str:
        """The text of the <label> for this control (by ``for``, or wrapping it); for a
        radio group or checkboxes, the group's <legend>."""
        if control.id:
            label = self.root.select_one(f"label[for={control.id}]")
            if label is not None:
                return label.text
        wrapping = control.closest("label")
        if wrapping is not None:
            return wrapping.text
        fieldset = control.closest("fieldset")
        legend = fieldset.select_one("legend") if fieldset is not None else None
        return legend.text if legend is not None else ""

    def labels(self) -> dict[str, str]:
        """{control name: its label's text} for every named control."""
        found: dict[str, str] = {}
        for c in self.controls:
            found.setdefault(c.get("name"), self.label_of(c))
        return found


def forms(page, method: str | None = "post") -> list[Form]:
    """The page's forms, by method (None: every form)."""
    root = parse(page)
    return [Form(f, root) for f in root.select("form")
            if method is None or (f.get("method") or "get").lower() == method]


def form_values(page) -> dict[str, str]:
    """{name: value} of every control on the page, inside a form or not (first of each name)."""
    root = parse(page)
    found: dict[str, str] = {}
    for c in root.iter():
        if c.tag in ("input", "select", "textarea") and c.get("name"):
            found.setdefault(c.get("name"), c.value)
    return found
