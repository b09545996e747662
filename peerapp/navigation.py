"""Role-aware navigation and home-page panels, contributed by each area.

An area registers its entries when its views module is imported:

    nav_item("Training", "training.index", order=20)
    home_panel("training/_home_panel.html", order=20)

Entries are shown only to people allowed to open the endpoint, so the menu can
never offer a page the access policy would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from .access import may


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    order: int
    hint: str = ""


@dataclass(frozen=True)
class HomePanel:
    template: str
    endpoint: str  # the panel shows when the person may open this endpoint
    order: int


_NAV: dict[str, NavItem] = {}
_PANELS: dict[str, HomePanel] = {}
_BANNERS: dict[str, HomePanel] = {}


def nav_item(label: str, endpoint: str, order: int = 50, hint: str = "") -> None:
    _NAV[endpoint] = NavItem(label, endpoint, order, hint)


def home_panel(template: str, endpoint: str, order: int = 50) -> None:
    _PANELS[template] = HomePanel(template, endpoint, order)


def page_banner(template: str, endpoint: str, order: int = 50) -> None:
    """A banner shown at the top of every page to people who may open ``endpoint``
    (e.g. an unacknowledged late visit for peer leads). Its template decides, with
    one cheap query of its own area, whether there is anything to say."""
    _BANNERS[template] = HomePanel(template, endpoint, order)


_SECTIONS: dict[str, dict[str, HomePanel]] = {}


def page_section(page: str, template: str, endpoint: str, order: int = 50) -> None:
    """A section another area adds to a page it does not own, e.g. outcomes asking
    for the end measure on referrals' close page. The page includes
    ``sections(page)`` and knows nothing of who adds what, so areas depend one way.
    The section's template gets the page's context; shown to people who may open
    ``endpoint``."""
    _SECTIONS.setdefault(page, {})[template] = HomePanel(template, endpoint, order)


def sections_for(page: str, user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    found = sorted(_SECTIONS.get(page, {}).values(), key=lambda p: (p.order, p.template))
    return [s.template for s in found if may(s.endpoint, user)]


def banners_for(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(_for_roles(user)[1])


def menu_for(user, endpoint: str | None = None) -> list[dict]:
    """The menu for this person; one item is marked current: the page itself,
    or else the first item of the same area."""
    items = [{"label": i.label, "url": url, "endpoint": i.endpoint, "hint": i.hint, "current": False}
             for i, url in _for_roles(user)[0]]
    if endpoint:
        exact = [item for item in items if item["endpoint"] == endpoint]
        area = endpoint.split(".")[0]
        same_area = [item for item in items if item["endpoint"].split(".")[0] == area]
        for item in (exact or same_area)[:1]:
            item["current"] = True
    return items


# Every page shows the menu and asks for the banners: which entries a person gets
# depends only on their roles (``may``), and an entry's URL only on where the app is
# mounted, so both are worked out once per set of roles (and mount point), kept on
# the app whose routes declared those roles.
def _for_roles(user) -> tuple[tuple[tuple[NavItem, str], ...], tuple[str, ...]]:
    signed_in = getattr(user, "is_authenticated", False)
    key = (frozenset(user.roles) if signed_in else None, request.script_root, len(_NAV), len(_BANNERS))
    by_roles = current_app.extensions.setdefault("peerapp_menus", {})
    found = by_roles.get(key)
    if found is None:
        menu = tuple((i, url_for(i.endpoint)) for i in sorted(_NAV.values(), key=lambda i: (i.order, i.label))
                     if may(i.endpoint, user))
        banners = tuple(b.template for b in sorted(_BANNERS.values(), key=lambda p: (p.order, p.template))
                        if may(b.endpoint, user))
        found = by_roles[key] = (menu, banners)
    return found


def tabs_for(user, tabs) -> tuple[tuple[str, str, str], ...]:
    """An area's own sub-navigation: (endpoint, label, url) for each of ``tabs``
    ((endpoint, label) pairs, in order) this person may open. Like the menu, worked out
    once per set of roles and mount point: a list page's nine tabs, each asking
    ``may`` and building its URL, were ~0.15 ms of every page."""
    signed_in = getattr(user, "is_authenticated", False)
    tabs = tuple(tuple(tab) for tab in tabs)
    key = (tabs, frozenset(user.roles) if signed_in else None, request.script_root)
    by_roles = current_app.extensions.setdefault("peerapp_tabs", {})
    found = by_roles.get(key)
    if found is None:
        found = by_roles[key] = tuple((endpoint, label, url_for(endpoint)) for endpoint, label in tabs
                                      if may(endpoint, user))
    return found


def panels_for(user) -> list[str]:
    panels = sorted(_PANELS.values(), key=lambda p: (p.order, p.template))
    return [p.template for p in panels if may(p.endpoint, user)]
