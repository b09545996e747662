"""A run's inputs, kept compactly so "why not this peer?" can be worked out again later.

Storing every (referral, peer) sentence cost 150 MB a run at a Trust's size
(500 peers x 2,000 referrals) and made the run page 217 MB. A run keeps instead
the engine's inputs exactly as it saw them (peers, referrals, catalogue, settings)
as zlib-compressed JSON, about 0.1-0.3 MB, and the run page asks for one
referral's "why not" when the peer lead opens it (``MatchingRun.why_not``).

No Flask and no database here: ``pack`` and ``unpack`` only.
"""
from __future__ import annotations

import json
import zlib
from array import array
from dataclasses import dataclass, fields

from . import engine



_COMPACT = json.JSONEncoder(separators=(",", ":"))  # one encoder for the 2,500 items of a run
_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(item) -> dict:
    names = _NAMES.get(type(item))
    if names is None:
        names = _NAMES[type(item)] = tuple(f.name for f in fields(item))
    out = {}
    for name in names:
        value = getattr(item, name)
        if isinstance(value, frozenset):
            value = sorted(value, key=str)
        elif name == "preferences":
            value = [[p.kind, p.value, p.must] for p in value]
        out[name] = value
    return out


def _peer(data: dict) -> engine.Peer:
    for name in ("interests", "languages", "areas", "availability", "backgrounds", "interventions",
                 "excluded_service_users"):
        data[name] = frozenset(data.get(name, ()))
    return engine.Peer(**data)


def _referral(data: dict) -> engine.Referral:
    for name in ("interventions", "interests", "languages", "availability", "excluded_peers",
                 "not_a_good_fit_peers"):
        data[name] = frozenset(data.get(name, ()))
    data["preferences"] = tuple(engine.Preference(kind, value, bool(must))
                                for kind, value, must in data.get("preferences", ()))
    return engine.Referral(**data)


def pack(peers, referrals, catalogue, settings: engine.Settings) -> bytes:
    """The run's inputs as compressed JSON."""
    document = {
        "version": 1,
        "peers": [_plain(p) for p in peers],
        # Each referral as its own JSON text: opening one referral's "why not" decodes
        # the peers and that one referral, not all 2,000.
        "referrals": {str(r.id): _COMPACT.encode(_plain(r)) for r in referrals},
        "catalogue": [_plain(i) for i in catalogue],
        "settings": {"weights": dict(settings.weights),
                     "volunteer_risk_levels": sorted(settings.volunteer_risk_levels),
                     "alternatives": settings.alternatives, "interest_cap": settings.interest_cap,
                     "language_cap": settings.language_cap, "availability_cap": settings.availability_cap,
                     "waiting_cap_days": settings.waiting_cap_days,
                     "most_matches_first": settings.most_matches_first},
    }
    return zlib.compress(_COMPACT.encode(document).encode(), 6)


def without_referrals(blob: bytes, referral_ids) -> bytes:
    """The same inputs less these referrals (erasure of a service user's data)."""
    document = json.loads(zlib.decompress(bytes(blob)))
    gone = set(referral_ids)
    document["referrals"] = {k: v for k, v in document["referrals"].items() if int(k) not in gone}
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)


@dataclass
class Inputs:
    """What ``unpack`` gives back: every peer, the referrals by id (built when asked),
    the catalogue and the settings."""
    peers: list[engine.Peer]
    catalogue: list[engine.Intervention]
    settings: engine.Settings
    _referrals: dict[str, str]

    def referral(self, referral_id: int) -> engine.Referral | None:
        text = self._referrals.get(str(referral_id))
        return _referral(json.loads(text)) if text is not None else None


def unpack(blob: bytes) -> Inputs:
    document = json.loads(zlib.decompress(bytes(blob)))
    settings = document["settings"]
    settings["volunteer_risk_levels"] = frozenset(settings["volunteer_risk_levels"])
    catalogue = [engine.Intervention(id=i["id"], name=i["name"], volunteers_allowed=i["volunteers_allowed"],
                                     risk_levels=frozenset(i["risk_levels"])) for i in document["catalogue"]]
    return Inputs(peers=[_peer(p) for p in document["peers"]], catalogue=catalogue,
                  settings=engine.Settings(**settings),
                  _referrals=document["referrals"])


# --- which peers were eligible for a referral, best first --------------------------
# Two bytes a peer, as positions in the run's peer list (sorted by id): the "choose
# another peer" list of a proposal reads them without working anything out again.

def pack_ids(ids) -> bytes:
    return array("I", ids).tobytes()


def unpack_ids(blob: bytes | None) -> list[int]:
    found = array("I")
    if blob:
        found.frombytes(bytes(blob))
    return found.tolist()


def pack_positions(positions) -> bytes:
    return array("H", positions).tobytes()


def unpack_positions(blob: bytes | None) -> list[int]:
    found = array("H")
    if blob:
        found.frombytes(bytes(blob))
    return found.tolist()
