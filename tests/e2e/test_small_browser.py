"""A teacher's first day in a real browser (Debian chromium, driven by selenium) on the
deployed small site: sign in, open their class and a student page, where the vendored
Chart.js draws under the site's Content-Security-Policy and the career recommendations
show with their reasons, then sign out. Screenshots of each page go to
$SSAS_ARTIFACTS_DIR (default: artifacts/ in the checkout) for CI to keep."""

import json
import os
import secrets
import shutil
from pathlib import Path

import pytest

from ssas_deploy.profiles.models import Role

from .conftest import cli
from .site_client import Site

ARTIFACTS = Path(os.environ.get("SSAS_ARTIFACTS_DIR",
                                Path(__file__).resolve().parents[2] / "artifacts"))


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromium-driver are missing: bash scripts/setup.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1600"):
        options.add_argument(flag)
    options.accept_insecure_certs = True  # the sandbox's self-signed certificate
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(
        executable_path=shutil.which("chromedriver")))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"browser-{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def _wait(driver, css: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_a_teacher_uses_the_site_in_a_browser(small, browser, tmp_path):
    from selenium.webdriver.common.by import By

    profile, inventory = small
    site = Site(profile, inventory)
    code = f"browser-{secrets.token_hex(2)}"
    site.manage(Role.web, "generate_school", "--students", "60", "--seed", "7",
                "--school", code)
    site.manage(Role.web, "train_models")
    # The school's best student: above the mean somewhere, so careers come with reasons.
    said = site.manage(Role.web, "shell", "-c", (
        "import json; from django.db.models import Avg; "
        "from ssas.students.models import Student; print(json.dumps(list("
        f"Student.objects.filter(school__code='{code}').annotate(a=Avg('scores__total_score'))"
        ".order_by('-a').values_list('class_name', 'first_name', 'last_name')[:1])))"))
    students = json.loads(said.strip().splitlines()[-1])  # after shell's auto-import note
    class_name, first, last = students[0]
    name = f"teacher-{secrets.token_hex(3)}"
    secret = tmp_path / "password"
    cli("users", "create", name, "--role", "teacher", "--class", class_name, "--school", code,
        "--password-file", str(secret), "--profile", str(profile), "--inventory",
        str(inventory))

    browser.get(site.base + "/")
    _wait(browser, "input[name=username]").send_keys(name)
    browser.find_element(By.NAME, "password").send_keys(secret.read_text().strip())
    _shot(browser, "1-sign-in")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit], "
                                          "form input[type=submit]").click()
    assert f"Signed in as {name}" in _wait(browser, "header .who").text

    browser.find_element(By.LINK_TEXT, f"{code} {class_name}").click()
    _wait(browser, "canvas[data-drawn=yes]")  # Chart.js loaded and drew (CSP allows it)
    assert f"Class {class_name}" in browser.find_element(By.TAG_NAME, "h1").text
    _shot(browser, "2-class")

    browser.find_element(By.LINK_TEXT, f"{first} {last}").click()
    _wait(browser, "canvas[data-drawn=yes]")
    careers = browser.find_elements(By.CSS_SELECTOR, "#careers li")
    assert len(careers) == 3 and "sd against the school" in careers[0].text, [
        c.text for c in careers]
    assert "Next term's average" in browser.find_element(By.ID, "prediction").text
    _shot(browser, "3-student")

    browser.find_element(By.XPATH, "//header//button[text()='Sign out']").click()
    _wait(browser, "input[name=username]")
    assert "/accounts/login/" in browser.current_url
    _shot(browser, "4-signed-out")
