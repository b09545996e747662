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


def test_threads_building_a_first_url_at_once_compile_its_builder_once(database_target, monkeypatch):
    """Waitress serves in threads, and each route's URL builder is compiled the first
    time a URL of it is built (peerapp.LazyRule). Threads that ask at once all get the
    URL, and never compile two at a time: CPython 3.11 raised SystemError (a 500) once
    when two threads compiled at once."""
    import threading
    import time

    from flask import url_for
    from werkzeug.routing import Rule

    from peerapp import create_app

    compile_builder = Rule._compile_builder
    at_once, most, compiled = [0], [0], []
    counting = threading.Lock()

    def slow_compile(rule, append_unknown=True):
        with counting:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
            compiled.append((rule.endpoint, append_unknown))
        time.sleep(0.02)  # long enough for every other thread to arrive
        try:
            return compile_builder(rule, append_unknown)
        finally:
            with counting:
                at_once[0] -= 1

    monkeypatch.setattr(Rule, "_compile_builder", slow_compile)
    app = create_app({"DATABASE": database_target, "SECRET_KEY": "x"})
    start, built = threading.Barrier(8), []

    def build():
        with app.test_request_context("/"):
            start.wait()
            built.append(url_for("referrals.show", referral_id=7))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == ["/referrals/7"] * 8
    assert compiled.count(("referrals.show", True)) == 1 and most[0] == 1
