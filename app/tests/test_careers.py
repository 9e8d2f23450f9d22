"""Career areas from a school's own subject codes and names; health says when none match."""

import pytest
from django.test import Client

from ssas.ml import service
from ssas.ml.careers import career_weights, subject_area
from ssas.students.models import Student, Subject


@pytest.mark.parametrize("code, name, area", [
    ("math", "", "math"), ("MATH", "", "math"), ("M101", "Mathematics", "math"),
    ("ENGL", "", "english"), ("bio-11", "", "biology"), ("ENG-LIT", "English Literature",
                                                          "literature"),
    ("CS", "", "computer-science"), ("x7", "Computer Science", "computer-science"),
    ("PE", "Sport", None),
])
def test_subject_area_matches_codes_then_names(code, name, area):
    assert subject_area(code, name) == area


def test_weights_split_evenly_between_subjects_of_one_area():
    weights = career_weights(["MATH", "MATHS-ADV", "PHYS", "PE"],
                             {"MATHS-ADV": "Mathematics (advanced)"})
    software = dict(weights["Software Engineer"])
    # math 0.45 over MATH alone (MATHS-ADV's name is not a common one), physics 0.15
    assert software == {0: 0.45, 2: 0.15}
    both = dict(career_weights(["MATH", "M2"], {"M2": "Maths"})["Accountant"])
    assert both == {0: 0.25, 1: 0.25}
    assert "Graphic Designer" not in weights  # no art or computing subject


def test_uppercase_codes_get_recommendations(school_data, counsellor_client):
    from ssas.ml.training import train_all

    for subject in Subject.objects.all():
        subject.code = subject.code.upper()[:4]
        subject.save()
    train_all()
    student = Student.objects.order_by("pk").first()
    careers = counsellor_client.get(f"/api/students/{student.pk}/careers/").json()
    assert len(careers["recommendations"]) == 3, careers


def test_health_is_degraded_with_the_reason_when_no_subject_matches(db):
    Subject.objects.create(code="PE", name="Sport")
    Subject.objects.create(code="MUS", name="Music")
    reason = service.careers_unmatched(now=1e12)
    assert "no career profile matches any subject (PE, MUS" in reason or \
        "no career profile matches any subject (MUS, PE" in reason
    body = Client().get("/monitoring/health/").json()
    assert body["status"] == "degraded"
    assert "no career profile matches" in body["checks"]["ml_models"]["careers"]
    Subject.objects.create(code="MATH", name="Mathematics")
    assert service.careers_unmatched(now=2e12) is None


def test_an_admins_choice_of_area_wins_over_the_guess(db):
    assert career_weights(["PE", "MATH"], {}, {"PE": "biology", "MATH": "none"}) == {
        "Medical Doctor": [(0, 0.45)], "Pharmacist": [(0, 0.35)],
        "Environmental Scientist": [(0, 0.35)]}
    Subject.objects.create(code="PE", name="Sport")
    assert "no career profile matches" in service.careers_unmatched(now=1e12)
    Subject.objects.filter(code="PE").update(career_area="biology")
    assert service.careers_unmatched(now=2e12) is None


def test_the_subject_admin_edits_the_area_in_the_list(admin_user):
    subject = Subject.objects.create(code="PE", name="Sport")
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/students/subject/").content.decode()
    assert "Area used" in page and 'name="form-0-career_area"' in page
    response = browser.post("/admin/students/subject/", {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000", "form-0-id": str(subject.pk),
        "form-0-career_area": "biology", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    subject.refresh_from_db()
    assert subject.career_area == "biology"
