"""A measure's definition, read from JSON (or TOML) and checked field by field.

No Flask and no database: ``parse(text, filename)`` returns a :class:`Definition`
or raises :class:`DefinitionErrors` listing every problem with the field (and,
for a syntax error, the line) it is in. The format is documented in
``docs/measures/README.md``; ``docs/measures/demo-measure.json`` is a fictional
example. Items' wording is part of the definition: a changed definition is a new
version of the measure, so responses keep the wording they were answered on.
"""
from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field

KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
METHODS = ("sum", "mean")


class DefinitionErrors(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    options: tuple[Option, ...]
    reverse: bool = False
    subscale: str = ""

    @property
    def lowest(self) -> int:
        return min(o.value for o in self.options)

    @property
    def highest(self) -> int:
        return max(o.value for o in self.options)


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    version_label: str
    licence: str
    instructions: str
    items: tuple[Item, ...]
    method: str
    higher_is_better: bool
    minimum: float
    maximum: float
    subscales: dict = field(default_factory=dict)  # key -> name
    rci_threshold: float | None = None  # given
    sd: float | None = None
    reliability: float | None = None
    cutoff: float | None = None

    @property
    def reliable_change(self) -> float:
        """The smallest change counted as reliable: given, or Jacobson & Truax's
        1.96 x SD x sqrt(2) x sqrt(1 - r)."""
        if self.rci_threshold is not None:
            return self.rci_threshold
        return jacobson_truax(self.sd, self.reliability)


def jacobson_truax(sd: float, reliability: float) -> float:
    return 1.96 * sd * math.sqrt(2) * math.sqrt(1 - reliability)


def digest(text: str) -> str:
    """Same definition, same digest, whatever the spacing or key order."""
    data = json.loads(text)
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load(text: str, filename: str = "definition.json") -> dict:
    """The raw data, or DefinitionErrors naming the line of a syntax error."""
    if filename.endswith(".toml"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise DefinitionErrors([f"{filename}: not valid TOML: {error}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionErrors([f"{filename}: line {error.lineno}, column {error.colno}: "
                                f"not valid JSON ({error.msg})"]) from None
    return data


def parse(text: str, filename: str = "definition.json") -> Definition:
    return check(load(text, filename), filename)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(data: dict, name: str, where: str, problems: list, required: bool = True, limit: int = 2000) -> str:
    value = data.get(name)
    if value is None:
        if required:
            problems.append(f"{where}{name}: missing (text is needed)")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}{name}: must be text{'' if not required else ', not empty'}")
        return ""
    if len(value) > limit:
        problems.append(f"{where}{name}: longer than {limit} characters")
        return ""
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        problems.append(f"{where}{name}: contains control characters")
        return ""
    return value.strip()


def _options(raw, where: str, problems: list) -> tuple[Option, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        problems.append(f"{where}: needs a list of at least two options")
        return ()
    options, seen = [], set()
    for i, option in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(option, dict):
            problems.append(f"{here}: must be an object with value and label")
            continue
        value = option.get("value")
        if not _is_int(value) or not -1000 <= value <= 1000:
            problems.append(f"{here}.value: must be a whole number from -1000 to 1000")
            continue
        if value in seen:
            problems.append(f"{here}.value: {value} is used twice")
            continue
        seen.add(value)
        label = _text(option, "label", f"{here}.", problems, limit=200)
        if label:
            options.append(Option(value, label))
    return tuple(options)


def check(data, filename: str = "definition.json") -> Definition:
    """Every problem at once, each naming its field, e.g. ``items[2].reverse``."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionErrors([f"{filename}: the definition must be an object"])
    known = {"key", "name", "version_label", "licence", "instructions", "options", "items", "scoring",
             "subscales", "reliable_change", "clinical_cutoff"}
    for extra in sorted(set(data) - known):
        problems.append(f"{extra}: not a field of a measure definition (misspelt?)")
    key = _text(data, "key", "", problems, limit=40)
    if key and (set(key) - KEY_CHARS):
        problems.append("key: use lower-case letters, digits, - and _ only")
    name = _text(data, "name", "", problems, limit=200)
    version_label = _text(data, "version_label", "", problems, limit=40)
    licence = _text(data, "licence", "", problems)
    instructions = _text(data, "instructions", "", problems, required=False)

    subscales_raw = data.get("subscales", {})
    subscales: dict = {}
    if not isinstance(subscales_raw, dict):
        problems.append("subscales: must be an object of key: name")
    else:
        for sub_key, sub_name in subscales_raw.items():
            if not isinstance(sub_name, str) or not sub_name.strip():
                problems.append(f"subscales.{sub_key}: must be a name (text)")
            else:
                subscales[sub_key] = sub_name.strip()

    shared = _options(data["options"], "options", problems) if "options" in data else None
    items: list[Item] = []
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("items: missing (a list of at least one item)")
        raw_items = []
    seen_keys = set()
    for i, raw in enumerate(raw_items):
        where = f"items[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object")
            continue
        for extra in sorted(set(raw) - {"key", "text", "options", "reverse", "subscale"}):
            problems.append(f"{where}.{extra}: not a field of an item (misspelt?)")
        item_key = _text(raw, "key", f"{where}.", problems, limit=40)
        if item_key in seen_keys:
            problems.append(f"{where}.key: {item_key!r} is used twice")
        seen_keys.add(item_key)
        text = _text(raw, "text", f"{where}.", problems)
        if "options" in raw:
            options = _options(raw["options"], f"{where}.options", problems)
        elif shared is not None:
            options = shared
        else:
            problems.append(f"{where}.options: missing, and the measure has no shared options")
            options = ()
        reverse = raw.get("reverse", False)
        if not isinstance(reverse, bool):
            problems.append(f"{where}.reverse: must be true or false")
            reverse = False
        subscale = raw.get("subscale", "")
        if not isinstance(subscale, str) or (subscale and subscale not in subscales):
            problems.append(f"{where}.subscale: {subscale!r} is not one of the subscales ({', '.join(subscales) or 'none defined'})")
            subscale = ""
        if item_key and text and options:
            items.append(Item(item_key, text, options, reverse, subscale))

    scoring = data.get("scoring")
    method, higher, minimum, maximum = "sum", True, 0.0, 0.0
    if not isinstance(scoring, dict):
        problems.append("scoring: missing (an object with method and higher_is_better)")
        scoring = {}
    for extra in sorted(set(scoring) - {"method", "higher_is_better", "min", "max"}):
        problems.append(f"scoring.{extra}: not a field of scoring (misspelt?)")
    if scoring:
        method = scoring.get("method")
        if method not in METHODS:
            problems.append(f"scoring.method: must be one of {', '.join(METHODS)}")
            method = "sum"
        higher = scoring.get("higher_is_better")
        if not isinstance(higher, bool):
            problems.append("scoring.higher_is_better: must be true or false")
            higher = True
    if items and len(items) == len(raw_items):
        lows = [i.lowest for i in items]
        highs = [i.highest for i in items]
        minimum = sum(lows) if method == "sum" else sum(lows) / len(lows)
        maximum = sum(highs) if method == "sum" else sum(highs) / len(highs)
        for name_, expected in (("min", minimum), ("max", maximum)):
            if name_ in scoring:
                given = scoring[name_]
                if not _is_number(given) or abs(given - expected) > 1e-9:
                    problems.append(f"scoring.{name_}: {given!r} does not match the items' options "
                                    f"({expected:g} by {method})")
    for sub_key in subscales:
        if not any(i.subscale == sub_key for i in items):
            problems.append(f"subscales.{sub_key}: no item belongs to it")

    rci_threshold = sd = reliability = None
    rc = data.get("reliable_change")
    if not isinstance(rc, dict):
        problems.append("reliable_change: missing (give threshold, or sd and reliability)")
    else:
        for extra in sorted(set(rc) - {"threshold", "sd", "reliability", "source"}):
            problems.append(f"reliable_change.{extra}: not a field of reliable_change (misspelt?)")
        if "threshold" in rc:
            if "sd" in rc or "reliability" in rc:
                problems.append("reliable_change: give either threshold or sd and reliability, not both")
            elif not _is_number(rc["threshold"]) or rc["threshold"] <= 0:
                problems.append("reliable_change.threshold: must be a number above 0")
            else:
                rci_threshold = float(rc["threshold"])
        else:
            if not _is_number(rc.get("sd")) or rc.get("sd", 0) <= 0:
                problems.append("reliable_change.sd: must be a number above 0 (the measure's standard deviation)")
            else:
                sd = float(rc["sd"])
            if not _is_number(rc.get("reliability")) or not 0 <= rc.get("reliability", -1) < 1:
                problems.append("reliable_change.reliability: must be a number from 0 up to (not including) 1")
            else:
                reliability = float(rc["reliability"])
    cutoff = data.get("clinical_cutoff")
    if cutoff is not None:
        if not _is_number(cutoff):
            problems.append("clinical_cutoff: must be a number")
            cutoff = None
        elif items and not minimum <= cutoff <= maximum:
            problems.append(f"clinical_cutoff: {cutoff:g} is outside the score range {minimum:g} to {maximum:g}")
            cutoff = None
    if problems:
        raise DefinitionErrors([f"{filename}: {p}" for p in problems])
    return Definition(key=key, name=name, version_label=version_label, licence=licence,
                      instructions=instructions, items=tuple(items), method=method, higher_is_better=higher,
                      minimum=minimum, maximum=maximum, subscales=subscales, rci_threshold=rci_threshold,
                      sd=sd, reliability=reliability, cutoff=float(cutoff) if cutoff is not None else None)
