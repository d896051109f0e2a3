"""A real browser in the authorization code flow: headless Chromium signs in on the sandbox, approves
the consent page, and pm_token exchanges the code Chromium was redirected with.

Nothing listens on the redirect URI (http://127.0.0.1:8976/callback): Chromium fails to load it,
and the code is read from the URL it was sent to. A screenshot of the consent page is saved under
tests/output/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from headless_chromium import headless_chromium
from pm_integration import OUTPUT_DIR, Runner, keep_secret, ok
from pm_sandbox.testing import SandboxProcess

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

SCREENSHOT = OUTPUT_DIR / "browser" / "consent-page.png"


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with headless_chromium(tmp_path / "chromium-profile", window="1000,800") as driver:
        yield driver


@pytest.mark.deep
def test_chromium_approves_and_pm_token_exchanges_the_code(pb: Runner, clean_sandbox: SandboxProcess,
                                                          chromium: webdriver.Chrome) -> None:
    client = clean_sandbox.credentials["authorization_code_client"]
    admin = clean_sandbox.credentials["admin"]
    env = pb.env(PM_CLIENT_ID=client["client_id"], PM_CLIENT_SECRET=client["client_secret"])
    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Build the authorization URL
              processmaker.core.pm_token:
                grant_type: authorization_code
                redirect_uri: "{{{{ redirect_uri }}}}"
              register: authorize
              no_log: true
            {keep_secret("authorize")}
    """, env=env, extra_vars={"redirect_uri": client["redirect_uri"]}))
    step = pb.secret("authorize")

    wait = WebDriverWait(chromium, 20)
    chromium.get(step["authorization_url"])
    wait.until(expected_conditions.presence_of_element_located((By.NAME, "password")))
    assert urlsplit(chromium.current_url).path == "/login"  # sent to sign in first
    chromium.find_element(By.NAME, "username").send_keys(admin["username"])
    chromium.find_element(By.NAME, "password").send_keys(admin["password"])
    chromium.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()

    wait.until(expected_conditions.title_contains("Authorization Request"))
    page = chromium.find_element(By.TAG_NAME, "main").text
    assert "is requesting permission to access your account" in page
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    chromium.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 1000
    approve = [button for button in chromium.find_elements(By.CSS_SELECTOR, "form button[type=submit]")
               if button.text.strip() == "Authorize"]
    assert len(approve) == 1
    approve[0].click()

    wait.until(lambda driver: driver.current_url.startswith(client["redirect_uri"]))
    callback = chromium.current_url  # the page itself failed to load: nothing listens there
    pb.guard.add(callback, "callback URL")
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [step["state"]]
    assert query["code"][0].startswith("def50200")

    ok(pb.play(f"""
        - hosts: localhost
          gather_facts: false
          vars:
            step: "{{{{ lookup('file', secrets_dir + '/authorize.json') | from_json }}}}"
          tasks:
            - name: Exchange the code Chromium was redirected with
              processmaker.core.pm_token:
                callback_url: "{{{{ callback }}}}"
                expected_state: "{{{{ step.state }}}}"
                code_verifier: "{{{{ step.code_verifier }}}}"
                redirect_uri: "{{{{ redirect_uri }}}}"
              register: login
              no_log: true
            {keep_secret("login")}
    """, env=env, extra_vars={"callback": callback, "redirect_uri": client["redirect_uri"]}))
    login = pb.secret("login")
    assert login["grant_type"] == "authorization_code" and login["user"]["username"] == "admin"
    counters = clean_sandbox.counters()
    assert counters["tokens_issued"] == {"authorization_code": 1}
    assert counters["requests"]["POST /login"] == 1 and counters["requests"]["POST /oauth/authorize"] == 1
    assert clean_sandbox.api("GET", "/users/1", token=login["access_token"]).json()["username"] == "admin"
