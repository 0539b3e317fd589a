"""Team mode: sign-in (named users with argon2 hashes, and the wiring of Streamlit's OpenID Connect),
roles shown and enforced, audit and undo, and two editors on one incident."""
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from geo.store.auth import AuthConfig, PermissionDenied, SignInGuard, User, hash_password, user_entry
from geo.text.document import Article

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def hashed():
    return hash_password(PASSWORD)


@pytest.fixture
def team_app(tmp_path, monkeypatch, hashed):
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.app.views import build_sample_store
    monkeypatch.setenv("GEO_DB", str(tmp_path / "store.gpkg"))
    with Store.open(tmp_path / "store.gpkg") as store:
        build_sample_store(store, ROOT / "data" / "articles", default_pipeline())

    import streamlit as st
    st.cache_resource.clear()  # the sign-in guard is per server process: each test starts unlocked

    def make(**extra):
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=180)
        at.secrets["atlas"] = {"users": {name: {"password": hashed, "role": role}
                                         for name, role in (("vic", "viewer"), ("ed", "editor"), ("ad", "admin"))},
                               "roles": {"boss@example.org": "admin"}, "max_failed_attempts": 3}
        for key, value in extra.items():
            at.secrets[key] = value
        return at
    return make


def sign_in(at, name, password=PASSWORD):
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    return at


def test_signed_out_sees_only_the_sign_in(team_app):
    at = team_app().run()
    assert not at.exception
    assert len(at.metric) == 0 and not at.get("component_instance") and not at.dataframe
    assert at.text_input(key="sign_in_name") is not None


def test_wrong_passwords_are_limited(team_app):
    at = team_app().run()
    for _ in range(3):
        sign_in(at, "ed", "not the password")
        assert any("Wrong user name or password" in e.value for e in at.error)
    sign_in(at, "ed")  # the right password, but locked now
    assert any("too many failed sign-ins" in e.value for e in at.error) and len(at.metric) == 0


def test_a_viewer_sees_no_edit_controls(team_app):
    at = sign_in(team_app().run(), "vic")
    assert not at.exception and len(at.metric) == 3
    assert [t.label for t in at.tabs] == ["Map", "Incidents", "Change", "Articles", "Alerts", "Watch"]
    table_key = at.dataframe[0].proto.id.split("-", 2)[-1]  # the incident table of this view
    at.session_state[table_key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert any("geo-card" in h.proto.body for h in at.get("html"))  # an incident is chosen
    assert not [e for e in at.expander if e.label == "Correct this incident"]
    assert "delete_article" not in [b.key for b in at.button]
    assert len([b for b in at.sidebar.button if b.key.startswith("export_")]) == 3  # viewers export


def test_editor_and_admin_controls(team_app):
    at = sign_in(team_app().run(), "ed")
    assert [t.label for t in at.tabs] == ["Map", "Incidents", "Change", "Articles", "Add articles", "Audit", "Alerts",
                                          "Watch"]
    admin = team_app()
    admin.query_params["tab"] = "Articles"  # drawn only when open
    at = sign_in(admin.run(), "ad")
    assert [t.label for t in at.tabs] == ["Map", "Incidents", "Change", "Articles", "Add articles", "Audit", "Users",
                                          "Alerts", "Watch"]
    assert "delete_article" in [b.key for b in at.button]


def test_oidc_sign_in_wiring(team_app):
    oidc = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
            "client_id": "atlas", "client_secret": "secret",
            "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}
    at = team_app(auth=oidc)
    at.user["is_logged_in"] = False
    at.run()
    assert not at.exception and at.button(key="oidc_login").label.startswith("Sign in with")
    at = team_app(auth=oidc)
    at.user["is_logged_in"] = True
    at.user["email"] = "boss@example.org"
    at.run()
    assert not at.exception and "Users" in [t.label for t in at.tabs]  # [atlas.roles] made them admin
    at = team_app(auth=oidc)
    at.user["is_logged_in"] = True
    at.user["email"] = "someone@example.org"
    at.run()
    # the default role (viewer) sees the tabs everyone sees
    assert [t.label for t in at.tabs] == ["Map", "Incidents", "Change", "Articles", "Alerts", "Watch"]


def test_the_library_refuses_what_the_role_may_not_do(tmp_path):
    from geo.pipeline import default_pipeline
    from geo.store import Store
    with Store.open(tmp_path / "s.gpkg") as store:
        store.ingest(Article("a", "A car bomb exploded in Mogadishu on Friday, killing 7.",
                            published=date(2025, 11, 8)), default_pipeline())
        incident = store.incidents().incident_id[0]
        viewer, editor = store.for_user(User("vic", "viewer")), store.for_user(User("ed", "editor"))
        with pytest.raises(PermissionDenied):
            viewer.correct(incident, {"killed": 1})
        with pytest.raises(PermissionDenied):
            viewer.ingest(Article("b", "Clashes in Kismayo killed 4."), default_pipeline())
        with pytest.raises(PermissionDenied):
            editor.delete_article(store.articles().article_key[0])
        editor.correct(incident, {"killed": 9})
        assert set(store.corrections().who) == {"ed"}


def test_audit_undo_of_a_correction_and_of_a_deletion(tmp_path):
    from geo.pipeline import default_pipeline
    from geo.store import Store
    with Store.open(tmp_path / "s.gpkg") as store:
        for text, day in (("A car bomb exploded in Mogadishu on Friday, killing 7.", 8),
                          ("A car bomb exploded in Mogadishu on Friday, killing 9 people.", 9)):
            store.ingest(Article(f"a{day}", text, published=date(2025, 11, day)), default_pipeline())
        admin = store.for_user(User("ad", "admin"))
        incident = store.incidents().iloc[0]
        admin.correct(incident.incident_id, {"killed": 30})
        first = int(store.corrections().fid.iloc[0])
        admin.undo(first)
        assert store.incidents().killed[0] == incident.killed
        entry = admin.delete_article(store.articles().article_key[1])
        assert store.incidents().n_sources[0] == 1
        admin.undo(entry)
        assert store.incidents().n_sources[0] == 2 and store.counts()["articles"] == 2
        assert set(store.corrections().who) == {"ad"}


def test_sign_in_guard_and_user_entries(hashed):
    config = AuthConfig(users={"ana": {"password": hashed, "role": "editor"}}, max_failed_attempts=2)
    guard = SignInGuard(config)
    assert guard.sign_in("ana", PASSWORD) == User("ana", "editor")
    assert guard.sign_in("ana", "wrong", "10.0.0.1") is None and guard.sign_in("nobody", PASSWORD, "10.0.0.2") is None
    guard.sign_in("ana", "wrong", "10.0.0.3")
    with pytest.raises(PermissionDenied, match="wait"):  # the name is slowed down, from any address
        guard.sign_in("ana", PASSWORD, "10.0.0.4")
    block = user_entry("ana", "editor", PASSWORD)
    assert block.startswith("[atlas.users.ana]") and "$argon2id$" in block and PASSWORD not in block


def test_parallel_guesses_are_checked_and_counted_atomically_in_the_store(store_url, hashed):
    """20 guesses at once from one address, through two guards (two server processes) on one store:
    only the limit's worth are checked, the rest refused."""
    from concurrent.futures import ThreadPoolExecutor

    from geo.store import Store
    config = AuthConfig(users={"ana": {"password": hashed, "role": "editor"}}, max_failed_attempts=5)
    with Store.open(store_url) as one, Store.open(store_url) as two:
        guards = [SignInGuard(config, one), SignInGuard(config, two)]

        def guess(i):
            try:
                return guards[i % 2].sign_in("ana", f"guess {i}", "203.0.113.9")
            except PermissionDenied:
                return "refused"

        with ThreadPoolExecutor(20) as pool:
            outcomes = list(pool.map(guess, range(20)))
        assert outcomes.count(None) == 5 and outcomes.count("refused") == 15


def test_guessing_locks_out_the_address_and_only_slows_the_user(store_url, hashed):
    import time

    from geo.store import Store
    from geo.store.auth import FIRST_SLOWDOWN_SECONDS
    config = AuthConfig(users={"ana": {"password": hashed, "role": "editor"}}, max_failed_attempts=3)
    with Store.open(store_url) as store:
        attacker = SignInGuard(config, store)
        for i in range(3):
            assert attacker.sign_in("ana", f"guess {i}", "203.0.113.9") is None
        with pytest.raises(PermissionDenied, match="from your address"):
            attacker.sign_in("ana", PASSWORD, "203.0.113.9")
        with pytest.raises(PermissionDenied, match="from your address"):
            attacker.sign_in("bob", "anything", "203.0.113.9")
        real = SignInGuard(config, store)   # another server process, another address
        with pytest.raises(PermissionDenied, match=r"wait \d s"):
            real.sign_in("ana", PASSWORD, "198.51.100.7")
        time.sleep(FIRST_SLOWDOWN_SECONDS)
        assert real.sign_in("ana", PASSWORD, "198.51.100.7") == User("ana", "editor")
        assert real.sign_in("ana", PASSWORD, "198.51.100.7") == User("ana", "editor")  # counts cleared


def test_unknown_names_take_as_long_to_refuse_as_known_ones(hashed):
    import time
    config = AuthConfig(users={"ana": {"password": hashed, "role": "editor"}}, max_failed_attempts=100)
    guard = SignInGuard(config)

    def seconds(name):
        start = time.perf_counter()
        assert guard.sign_in(name, "wrong password") is None
        return time.perf_counter() - start

    seconds("nobody")  # the dummy hash is made once
    known = min(seconds("ana") for _ in range(3))
    unknown = min(seconds("nobody") for _ in range(3))
    assert unknown > known / 3, (known, unknown)


def test_user_add_with_a_dot_prints_a_quoted_toml_key():
    import tomllib

    from test_cli import geo
    r = geo("user", "add", "j.doe", "--role", "editor", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    secrets = tomllib.loads(r.stdout)
    assert list(secrets["atlas"]["users"]) == ["j.doe"]
    config = AuthConfig.from_secrets(secrets)
    assert SignInGuard(config).sign_in("j.doe", PASSWORD) == User("j.doe", "editor")
