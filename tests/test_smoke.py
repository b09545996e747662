def test_healthz(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.data == b"ok"

def test_home(client_for):
    r = client_for("admin").get("/")
    assert r.status_code == 200, r.data[:2000]
    r = client_for("admin").get("/admin/users")
    assert r.status_code == 200, r.data[:3000]


def test_making_the_app_leaves_the_garbage_collector_as_it_found_it(database_target):
    """Start-up turns the collector off while it makes the app (peerapp._starting_up):
    a server left without it would grow until it was killed."""
    import gc

    from peerapp import create_app
    assert gc.isenabled()
    create_app({"DATABASE": database_target, "SECRET_KEY": "x"})
    assert gc.isenabled()
    gc.disable()
    try:
        create_app({"DATABASE": database_target, "SECRET_KEY": "x"})
        assert not gc.isenabled()
    finally:
        gc.enable()
