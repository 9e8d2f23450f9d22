"""Sign-in for every role at /accounts/: login, logout, password change and reset by mail."""

import re

import pytest
from django.core import mail
from django.test import Client

NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture
def client():
    return Client()


def test_a_teacher_signs_in_lands_on_the_dashboard_and_signs_out(client, teacher):
    page = client.get("/")
    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=/"
    login = client.get("/accounts/login/?next=/")
    assert login.status_code == 200
    html = login.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and '<html lang="en' in html
    assert re.search(r'<label for="id_username">Username</label>', html)
    done = client.post("/accounts/login/", {"username": "teacher",
                                            "password": "pw-for-tests-only", "next": "/"})
    assert done.status_code == 302 and done["Location"] == "/"
    dashboard = client.get("/").content.decode()
    assert "Signed in as teacher" in dashboard and "Sign out" in dashboard
    assert "/admin/" not in dashboard  # a teacher is not staff: no admin link
    # Logout is a POST (a link or a prefetch cannot sign anyone out).
    assert client.get("/accounts/logout/").status_code == 405
    out = client.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(client, teacher):
    page = client.post("/accounts/login/", {"username": "teacher", "password": "wrong"})
    assert page.status_code == 200
    assert "did not match" in page.content.decode()
    assert client.get("/").status_code == 302


def test_staff_see_the_admin_link(client, admin_user):
    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_password_change_then_sign_in_with_the_new_one(client, teacher):
    client.force_login(teacher)
    form = client.get("/accounts/password_change/")
    assert form.status_code == 200 and "Change password" in form.content.decode()
    done = client.post("/accounts/password_change/", {
        "old_password": "pw-for-tests-only", "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/password_change/done/"
    client.post("/accounts/logout/")
    assert client.login(username="teacher", password=NEW_PASSWORD)


def test_password_reset_mails_a_one_time_link(client, teacher):
    teacher.email = "teacher@school.example"
    teacher.save()
    sent = client.post("/accounts/password_reset/", {"email": "teacher@school.example"})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["teacher@school.example"] and "reset your password" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)
    confirm = client.get(link)
    assert confirm.status_code == 302  # Django moves the token out of the URL first
    form_url = confirm["Location"]
    assert "Choose a new password" in client.get(form_url).content.decode()
    done = client.post(form_url, {"new_password1": NEW_PASSWORD,
                                  "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert client.login(username="teacher", password=NEW_PASSWORD)
    client.logout()
    # The link works once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_tell_whether_an_address_has_an_account(client, teacher):
    sent = client.post("/accounts/password_reset/", {"email": "nobody@school.example"})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []
