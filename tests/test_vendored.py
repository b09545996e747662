"""Vendored front-end files are pinned: a changed byte fails the suite."""
import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"


def test_every_vendored_file_matches_its_recorded_sha256():
    recorded = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        recorded[name.removeprefix("./")] = digest
    assert "htmx-2.0.11.min.js" in recorded
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()
               and p.name not in ("SHA256SUMS", "README") and not p.name.startswith("LICENSE")}
    assert on_disk == set(recorded), "a vendored file was added or removed without updating SHA256SUMS"
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, f"{name} changed"


def test_base_page_loads_only_the_pinned_htmx(anon):
    html = anon.get("/login").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
