"""A profile's `mail` section: the rendered Django settings send through the relay it names,
logging in with the password from the environment file, to a real SMTP server."""

import base64
import socket
import subprocess
import textwrap

import pytest

from ssas_deploy.context.build import build
from ssas_deploy.profiles.loader import load_profile
from ssas_deploy.rendering import render_deployment, write_tree

from .test_validators import app_environment, private_addresses

PASSWORD = "p@$$ 'w0rd\"=#;\\x ${HOME}"  # what would break a quoted or expanded env line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay():
    """A real SMTP server (aiosmtpd) on a free loopback port that wants a login."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult

    received, logins = [], []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == PASSWORD)

    port = _free_port()
    controller = controller_module.Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,
        auth_require_tls=False)
    controller.start()
    yield port, received, logins
    controller.stop()


def test_password_reset_mail_goes_through_the_relay_with_the_stored_password(relay, tmp_path):
    pytest.importorskip("ssas", reason="the SSAS app is installed by scripts/test.sh")
    port, received, logins = relay
    source = tmp_path / "school.yaml"
    source.write_text(textwrap.dedent(f"""\
        extends: small
        name: school
        mail:
          smtp_host: 127.0.0.1
          smtp_port: {port}
          security: none
          username: ssas@school.example
          from_address: ssas@school.example
        """))
    profile = load_profile(str(source))
    deployment = build(profile, private_addresses(profile))
    files = render_deployment(deployment)
    write_tree(files, tmp_path / "out")
    [settings] = [f for f in files if f.spec.dest.endswith("ssas_settings.py")][:1]
    env = {**app_environment(tmp_path / "out" / settings.host),
           "SSAS_SMTP_PASSWORD_B64": base64.b64encode(PASSWORD.encode()).decode()}
    send = ("from django.core.mail import send_mail; "
            "send_mail('Password reset', 'link', None, ['teacher@school.example'])")
    result = subprocess.run(["ssas-manage", "shell", "-c", send], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert logins == [("ssas@school.example", PASSWORD)]
    [mail] = received
    assert mail.mail_from == "ssas@school.example"
    assert mail.rcpt_tos == ["teacher@school.example"]


def test_without_a_relay_the_mails_stay_files(tmp_path):
    profile = load_profile("small")
    files = render_deployment(build(profile, private_addresses(profile)))
    [settings] = [f for f in files if f.spec.dest.endswith("ssas_settings.py")][:1]
    text = settings.content
    assert "EMAIL_BACKEND" not in text and "EMAIL_FILE_PATH" in text
    assert "DEFAULT_FROM_EMAIL = 'noreply@ssas.school.internal'" in text


def test_the_schools_time_zone_and_language_reach_django_and_beat(tmp_path):
    source = tmp_path / "school.yaml"
    source.write_text("extends: small\nname: school\n"
                      "site: {time_zone: Africa/Lagos, language: en-gb}\n")
    profile = load_profile(str(source))
    files = render_deployment(build(profile, private_addresses(profile)))
    settings = next(f.content for f in files if f.spec.dest.endswith("ssas_settings.py"))
    celery = next(f.content for f in files if f.spec.dest.endswith("ssas_celery.py"))
    assert "TIME_ZONE = 'Africa/Lagos'" in settings and "LANGUAGE_CODE = 'en-gb'" in settings
    assert "CELERY_TIMEZONE = 'Africa/Lagos'" in celery


@pytest.mark.parametrize("site, message", [
    ("{time_zone: Mars/Olympus}", "'Mars/Olympus' is not an IANA time zone"),
    ("{time_zone: localtime}", "'localtime' is not an IANA time zone"),
    ("{language: eng}", "'eng' is not a language Django has translations for"),
    ("{language: EN-GB}", "'EN-GB' is not a language Django has translations for"),
])
def test_a_time_zone_or_language_the_app_cannot_use_is_refused(tmp_path, site, message):
    from ssas_deploy.errors import InvalidInputError

    source = tmp_path / "school.yaml"
    source.write_text(f"extends: small\nname: school\nsite: {site}\n")
    with pytest.raises(InvalidInputError) as refused:
        load_profile(str(source))
    assert message in str(refused.value) and "school.yaml:3" in str(refused.value)


def test_the_language_list_is_djangos():
    global_settings = pytest.importorskip("django.conf.global_settings")
    from ssas_deploy.profiles.languages import DJANGO_LANGUAGES

    assert {code for code, _ in global_settings.LANGUAGES} == DJANGO_LANGUAGES
