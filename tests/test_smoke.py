def test_healthz(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.data == b"ok"

def test_home(client_for):
    r = client_for("admin").get("/")
    assert r.status_code == 200, r.data[:2000]
    r = client_for("admin").get("/admin/users")
    assert r.status_code == 200, r.data[:3000]
