"""/api/ registry endpoints: enterprises, certifications, claims, needs and surveys.

Personas (tests/conftest.py): alice is the SME contact of a firm in 长安区 (130102, Shijiazhuang);
olivia (below) is another SME with her own firm in the same county; bob and bianca regulate
Shijiazhuang (130100), charlie Tangshan (130200); diana supervises Hebei (130000) read-only; erin is
an expert. Anonymous callers get 403: session authentication comes first and sends no
WWW-Authenticate challenge, so DRF answers 403 rather than 401.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enterprises.models import (
    Certification,
    Enterprise,
    EnterpriseClaim,
    NeedAttachment,
    NeedRequest,
    NeedsSurvey,
)
from enterprises.services import ATTACHMENT_MAX_BYTES
from enterprises.uscc import check_character, generate_uscc
from portal.models import Industry, User
from tests.factories import CampaignFactory, EnterpriseFactory, UserFactory, region, sample_file_content
from tests.test_registry_scale import ESTIMATE_QUERIES

pytestmark = pytest.mark.django_db

Status = NeedRequest.Status

ANONYMOUS = 403  # see the module docstring
OUTSIDERS_AND_STRANGERS = 404
FORBIDDEN = 403


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def alice_firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def olivia(db):
    """Another SME user, contact of another firm in the same county as alice's."""
    user = UserFactory(username="olivia", full_name="陈静", role=User.Role.SME)
    EnterpriseFactory(name="石家庄华兴机械有限公司").users.add(user)
    return user


@pytest.fixture
def tangshan_firm(db):
    return EnterpriseFactory(name="唐山远航钢铁有限公司", region=region("130203"))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def firm(name: str, region_code: str = "130102", **fields) -> Enterprise:
    return EnterpriseFactory(name=name, region=region(region_code), **fields)


def need(enterprise: Enterprise, *, status: str = Status.SUBMITTED, service_area: int = 1,
         urgency: str = NeedRequest.Urgency.NORMAL, title: str = "计量器具校准") -> NeedRequest:
    submitter = enterprise.users.first() or UserFactory()
    return NeedRequest.objects.create(
        enterprise=enterprise, service_area_id=service_area, title=title, description="需要帮助", urgency=urgency,
        status=status, decline_reason="不在服务范围" if status == Status.DECLINED else "", submitted_by=submitter,
    )


def with_check_character(first17: str) -> str:
    return first17 + check_character(first17)


def enterprise_url(enterprise: Enterprise) -> str:
    return reverse("api:enterprise-detail", kwargs={"pk": enterprise.pk})


def need_url(need_: NeedRequest, action: str = "detail") -> str:
    return reverse(f"api:need-{action}", kwargs={"pk": need_.pk})


def attachment_url(need_pk: int, attachment: NeedAttachment) -> str:
    return reverse("api:need-attachment", kwargs={"pk": need_pk, "attachment_id": attachment.pk})


def claim_url(claim: EnterpriseClaim, action: str = "detail") -> str:
    return reverse(f"api:claim-{action}", kwargs={"pk": claim.pk})


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def new_firm_payload(region_code: str = "130102", **overrides) -> dict:
    payload = {
        "uscc": generate_uscc(region_code), "name": "石家庄新锐电子有限公司", "region": region_code,
        "industry": "39", "size": "small", "contact_name": "刘洋", "contact_phone": "13800000000",
    }
    return {**payload, **overrides}


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    content = sample_file_content(name) if content is None else content
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


# --- enterprises: access matrix ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", {"alice"}),
        ("olivia", {"olivia"}),
        ("bob", {"alice", "olivia"}),
        ("bianca", {"alice", "olivia"}),
        ("charlie", {"tangshan"}),
        ("diana", {"alice", "olivia", "tangshan"}),
        ("admin_user", {"alice", "olivia", "tangshan"}),
    ],
)
def test_the_enterprise_list_shows_what_each_persona_may_see(api, persona, alice_firm, olivia, tangshan_firm,
                                                            who, sees):
    firms = {"alice": alice_firm, "olivia": olivia.enterprises.get(), "tangshan": tangshan_firm}
    response = api(persona(who)).get(reverse("api:enterprise-list"))
    assert ids(response) == {firms[key].pk for key in sees}


@pytest.mark.parametrize(("who", "code"), [("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_experts_and_anonymous_callers_cannot_list_enterprises(api, persona, who, code):
    assert api(persona(who)).get(reverse("api:enterprise-list")).status_code == code


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", 404), ("bob", 200), ("bianca", 200), ("charlie", 404), ("diana", 200),
     ("admin_user", 200), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_retrieving_alices_firm(api, persona, alice_firm, who, code):
    response = api(persona(who)).get(enterprise_url(alice_firm))
    assert response.status_code == code
    if code == 200:
        assert response.json()["uscc"] == alice_firm.uscc


def test_an_enterprise_shows_region_and_industry_as_codes_with_names(api, alice):
    body = api(alice).get(enterprise_url(alice.enterprises.get())).json()
    assert (body["region"], body["region_name"]) == ("130102", "河北省石家庄市长安区")
    assert (body["industry"], body["industry_name"]) == ("13", "Processing of Agricultural and Sideline Food Products")
    assert body["has_open_needs"] is False


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", 404), ("bob", 200), ("bianca", 200), ("charlie", 404), ("admin_user", 200),
     ("diana", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_editing_the_contact_phone_of_alices_firm(api, persona, alice_firm, who, code):
    response = api(persona(who)).patch(enterprise_url(alice_firm), {"contact_phone": "13912345678"}, format="json")
    assert response.status_code == code
    alice_firm.refresh_from_db()
    assert (alice_firm.contact_phone == "13912345678") is (code == 200)


def test_an_sme_contact_cannot_edit_registry_fields(api, alice, alice_firm):
    response = api(alice).patch(enterprise_url(alice_firm), {"is_key": True}, format="json")
    assert response.status_code == 403
    alice_firm.refresh_from_db()
    assert alice_firm.is_key is False


def test_a_regulator_edits_the_registry_fields_of_a_firm_in_the_jurisdiction(api, bob, alice_firm):
    response = api(bob).patch(enterprise_url(alice_firm), {"is_key": True, "region": "130104", "industry": "14"},
                              format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["is_key"], response.json()["region"], response.json()["industry"]) == (True, "130104", "14")


def test_a_regulator_cannot_move_a_firm_out_of_the_jurisdiction(api, bob, alice_firm):
    response = api(bob).patch(enterprise_url(alice_firm), {"region": "130203"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"region": ["This region lies outside your jurisdiction."]}


def test_an_edit_with_an_unknown_region_code_is_refused_per_field(api, bob, alice_firm):
    response = api(bob).patch(enterprise_url(alice_firm), {"region": "999999", "industry": "C"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"region", "industry"}


@pytest.mark.parametrize("method", ["put", "delete"])
def test_enterprises_cannot_be_replaced_or_deleted(api, bob, alice_firm, method):
    response = getattr(api(bob), method)(enterprise_url(alice_firm), new_firm_payload(), format="json")
    assert response.status_code == 405
    assert Enterprise.objects.filter(pk=alice_firm.pk).exists()


# --- enterprises: registering ------------------------------------------------------------------


def test_an_sme_user_registers_a_firm_and_becomes_its_contact(api, olivia):
    payload = new_firm_payload()
    response = api(olivia).post(reverse("api:enterprise-list"), payload, format="json")
    assert response.status_code == 201, response.content
    firm_ = Enterprise.objects.get(pk=response.json()["id"])
    assert olivia in firm_.users.all()
    assert response.json()["region_name"] == "河北省石家庄市长安区"
    assert response["Location"] == reverse("api:enterprise-detail", args=[firm_.pk])  # where the new firm is read
    assert api(olivia).get(response["Location"]).json()["id"] == firm_.pk


def test_a_typed_credit_code_is_normalised_before_registering(api, alice):
    code = generate_uscc("130102")
    typed = f" {code[:9].lower()} {code[9:]} "
    response = api(alice).post(reverse("api:enterprise-list"), new_firm_payload(uscc=typed), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["uscc"] == code


@pytest.mark.parametrize(("who", "code"), [("bob", 201), ("admin_user", 201), ("diana", FORBIDDEN),
                                            ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_who_may_register_a_firm(api, persona, who, code):
    response = api(persona(who)).post(reverse("api:enterprise-list"), new_firm_payload(), format="json")
    assert response.status_code == code
    assert Enterprise.objects.exists() is (code == 201)


def test_a_regulator_cannot_register_a_firm_outside_the_jurisdiction(api, bob):
    response = api(bob).post(reverse("api:enterprise-list"), new_firm_payload("130203"), format="json")
    assert response.status_code == 400
    assert response.json() == {"region": ["This region lies outside your jurisdiction."]}


def test_it_rejects_a_credit_code_of_the_wrong_length(api, alice):
    response = api(alice).post(reverse("api:enterprise-list"), new_firm_payload(uscc="91130102MA0"), format="json")
    assert response.status_code == 400
    assert response.json() == {"uscc": ["A credit code has 18 characters; this one has 11."]}


def test_it_rejects_a_credit_code_with_a_forbidden_character(api, alice):
    code = "91130102MA0I" + generate_uscc("130102")[12:]
    response = api(alice).post(reverse("api:enterprise-list"), new_firm_payload(uscc=code), format="json")
    assert response.status_code == 400
    assert response.json()["uscc"] == [
        "A credit code cannot contain I (allowed: digits and letters except I, O, S, V, Z)."
    ]


def test_it_rejects_a_credit_code_with_a_wrong_check_character(api, alice):
    code = generate_uscc("130102")
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    response = api(alice).post(reverse("api:enterprise-list"), new_firm_payload(uscc=wrong), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "uscc": ["The check character (the 18th) does not match the first 17; please look for a typo."]
    }


def test_registering_a_code_already_in_the_registry_says_to_claim_it(api, olivia, alice_firm):
    response = api(olivia).post(reverse("api:enterprise-list"), new_firm_payload(uscc=alice_firm.uscc.lower()),
                                format="json")
    assert response.status_code == 400
    assert response.json() == {"uscc": ["This enterprise is already in the registry; claim it instead."]}


def test_registering_with_an_empty_body_lists_every_required_field(api, alice):
    response = api(alice).post(reverse("api:enterprise-list"), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"uscc", "name", "region", "industry", "size"}


def test_registering_under_an_industry_section_instead_of_a_division_is_refused(api, alice):
    response = api(alice).post(reverse("api:enterprise-list"), new_firm_payload(industry="C"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"industry"}


def test_malformed_json_answers_400(api, alice):
    response = api(alice).post(reverse("api:enterprise-list"), "{not json", content_type="application/json")
    assert response.status_code == 400


# --- enterprises: credit-code lookup -----------------------------------------------------------


@pytest.mark.parametrize(("who", "code"), [("alice", 200), ("bob", 200), ("charlie", 200), ("diana", 200),
                                            ("erin", 200), ("admin_user", 200), ("anonymous", ANONYMOUS)])
def test_every_signed_in_role_may_look_up_a_credit_code(api, persona, who, code):
    response = api(persona(who)).get(reverse("api:enterprise-lookup"), {"uscc": generate_uscc("130102")})
    assert response.status_code == code


def test_the_lookup_of_a_registered_code_says_only_that_it_exists(api, charlie, alice_firm):
    response = api(charlie).get(reverse("api:enterprise-lookup"), {"uscc": alice_firm.uscc.lower()})
    assert response.json() == {
        "valid": True, "errors": [], "normalised": alice_firm.uscc,
        "suggested_region": {"code": "130102", "name": "河北省石家庄市长安区"}, "in_registry": True,
    }


def test_the_lookup_explains_a_wrong_check_character_and_still_suggests_the_region(api, alice):
    code = generate_uscc("130203")
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    body = api(alice).get(reverse("api:enterprise-lookup"), {"uscc": wrong}).json()
    assert body["valid"] is False
    assert body["errors"] == ["The check character (the 18th) does not match the first 17; please look for a typo."]
    assert body["suggested_region"] == {"code": "130203", "name": "河北省唐山市路北区"}
    assert body["in_registry"] is False


def test_the_lookup_of_a_short_code_suggests_no_region(api, alice):
    body = api(alice).get(reverse("api:enterprise-lookup"), {"uscc": "9113"}).json()
    assert (body["valid"], body["suggested_region"], body["normalised"]) == (False, None, "9113")
    assert body["errors"] == ["A credit code has 18 characters; this one has 4."]


def test_the_lookup_without_a_code_answers_400(api, alice):
    response = api(alice).get(reverse("api:enterprise-lookup"))
    assert response.status_code == 400
    assert set(response.json()) == {"uscc"}


# --- certifications ----------------------------------------------------------------------------

CERTIFICATE = {"scheme": "iso9001", "number": "00124Q35871R0S", "body": "中国质量认证中心", "issued_on": "2024-03-01",
               "expires_on": "2027-02-28"}


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", 404), ("bob", 200), ("charlie", 404), ("diana", 200), ("admin_user", 200),
     ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_reading_the_certifications_of_alices_firm(api, persona, alice_firm, who, code):
    Certification.objects.create(enterprise=alice_firm, scheme="iso9001", number="A1", body="CQC",
                                 issued_on=datetime.date(2024, 1, 1))
    response = api(persona(who)).get(reverse("api:enterprise-certifications", kwargs={"pk": alice_firm.pk}))
    assert response.status_code == code
    if code == 200:
        assert [row["number"] for row in response.json()] == ["A1"]


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 201), ("bianca", 201), ("admin_user", 201), ("charlie", 404), ("alice", FORBIDDEN),
     ("diana", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_recording_a_certification(api, persona, alice_firm, who, code):
    url = reverse("api:enterprise-certifications", kwargs={"pk": alice_firm.pk})
    response = api(persona(who)).post(url, CERTIFICATE, format="json")
    assert response.status_code == code
    assert alice_firm.certifications.exists() is (code == 201)


def test_a_certification_expiring_before_it_was_issued_is_refused(api, bob, alice_firm):
    url = reverse("api:enterprise-certifications", kwargs={"pk": alice_firm.pk})
    response = api(bob).post(url, {**CERTIFICATE, "expires_on": "2023-01-01"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"expires_on": ["The expiry date must come after the issue date."]}


# --- claims ------------------------------------------------------------------------------------


@pytest.fixture
def olivias_claim(olivia, alice_firm):
    return EnterpriseClaim.objects.create(enterprise=alice_firm, user=olivia, message="我是新任质量负责人")


def test_an_sme_user_claims_a_registered_firm_without_seeing_its_record(api, olivia, alice_firm):
    response = api(olivia).post(reverse("api:claim-list"), {"uscc": alice_firm.uscc, "message": "请确认"},
                                format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["enterprise_name"] is None
    assert olivia not in alice_firm.users.all()


def test_claiming_a_code_not_in_the_registry_says_to_register_it(api, olivia):
    response = api(olivia).post(reverse("api:claim-list"), {"uscc": generate_uscc("130102")}, format="json")
    assert response.status_code == 400
    assert response.json() == {"uscc": ["No enterprise with this credit code is in the registry; register it."]}


@pytest.mark.parametrize(("who", "code"), [("bob", FORBIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
                                            ("anonymous", ANONYMOUS)])
def test_only_sme_users_claim_firms(api, persona, alice_firm, who, code):
    response = api(persona(who)).post(reverse("api:claim-list"), {"uscc": alice_firm.uscc}, format="json")
    assert response.status_code == code


@pytest.mark.parametrize(
    ("who", "sees_it"),
    [("olivia", True), ("alice", False), ("bob", True), ("bianca", True), ("charlie", False), ("diana", True),
     ("admin_user", True)],
)
def test_the_claim_list_shows_a_claim_to_its_claimant_and_the_firms_regulators(api, persona, olivias_claim, who,
                                                                              sees_it):
    assert (olivias_claim.pk in ids(api(persona(who)).get(reverse("api:claim-list")))) is sees_it


@pytest.mark.parametrize(("who", "code"), [("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_experts_and_anonymous_callers_cannot_list_claims(api, persona, who, code):
    assert api(persona(who)).get(reverse("api:claim-list")).status_code == code


@pytest.mark.parametrize(
    ("who", "code"),
    [("olivia", 200), ("alice", 404), ("bob", 200), ("bianca", 200), ("charlie", 404), ("diana", 200),
     ("admin_user", 200), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_retrieving_a_claim(api, persona, olivias_claim, who, code):
    assert api(persona(who)).get(claim_url(olivias_claim)).status_code == code


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", 404), ("diana", FORBIDDEN),
     ("olivia", FORBIDDEN), ("alice", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_confirming_a_claim(api, persona, olivias_claim, olivia, alice_firm, who, code):
    response = api(persona(who)).post(claim_url(olivias_claim, "confirm"), {}, format="json")
    assert response.status_code == code
    assert (olivia in alice_firm.users.all()) is (code == 200)
    if code == 200:
        assert response.json()["status"] == "confirmed"


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", 404), ("diana", FORBIDDEN),
     ("olivia", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_rejecting_a_claim(api, persona, olivias_claim, who, code):
    response = api(persona(who)).post(claim_url(olivias_claim, "reject"), {"note": "联系人不符"}, format="json")
    assert response.status_code == code
    olivias_claim.refresh_from_db()
    assert (olivias_claim.status == EnterpriseClaim.Status.REJECTED) is (code == 200)


def test_the_claimant_sees_the_firms_name_once_the_claim_is_confirmed(api, bob, olivia, olivias_claim, alice_firm):
    api(bob).post(claim_url(olivias_claim, "confirm"), {}, format="json")
    assert api(olivia).get(claim_url(olivias_claim)).json()["enterprise_name"] == alice_firm.name


def test_rejecting_a_claim_needs_a_note(api, bob, olivias_claim):
    response = api(bob).post(claim_url(olivias_claim, "reject"), {"note": "  "}, format="json")
    assert response.status_code == 400
    assert response.json() == {"note": ["Say why the claim is rejected."]}


def test_a_claim_is_rejected_with_a_note(api, bob, olivias_claim):
    response = api(bob).post(claim_url(olivias_claim, "reject"), {"note": "联系人不符"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "联系人不符")


def test_a_decided_claim_cannot_be_decided_again(api, bob, olivias_claim):
    api(bob).post(claim_url(olivias_claim, "confirm"), {}, format="json")
    response = api(bob).post(claim_url(olivias_claim, "reject"), {"note": "改主意"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This claim has already been decided."]}


def test_the_claim_list_filters_by_status(api, bob, olivias_claim):
    assert ids(api(bob).get(reverse("api:claim-list"), {"status": "pending"})) == {olivias_claim.pk}
    assert ids(api(bob).get(reverse("api:claim-list"), {"status": "confirmed"})) == set()


# --- needs: access matrix ----------------------------------------------------------------------


@pytest.fixture
def alices_need(alice_firm):
    return need(alice_firm)


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", {"alice"}), ("olivia", {"olivia"}), ("bob", {"alice", "olivia"}), ("bianca", {"alice", "olivia"}),
     ("charlie", {"tangshan"}), ("diana", {"alice", "olivia", "tangshan"}),
     ("admin_user", {"alice", "olivia", "tangshan"})],
)
def test_the_need_list_shows_what_each_persona_may_see(api, persona, alices_need, olivia, tangshan_firm, who, sees):
    needs = {"alice": alices_need, "olivia": need(olivia.enterprises.get()), "tangshan": need(tangshan_firm)}
    assert ids(api(persona(who)).get(reverse("api:need-list"))) == {needs[key].pk for key in sees}


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", 404), ("bob", 200), ("bianca", 200), ("charlie", 404), ("diana", 200),
     ("admin_user", 200), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_retrieving_alices_need(api, persona, alices_need, who, code):
    assert api(persona(who)).get(need_url(alices_need)).status_code == code


@pytest.mark.parametrize("action", ["accept", "decline", "duplicate"])
@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", 404), ("diana", FORBIDDEN),
     ("alice", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_triaging_alices_need(api, persona, alice_firm, alices_need, who, code, action):
    original = need(alice_firm, title="首次申请")
    body = {"accept": {"note": "安排专家"}, "decline": {"reason": "不属于质量服务"},
            "duplicate": {"original": original.pk}}[action]
    response = api(persona(who)).post(need_url(alices_need, action), body, format="json")
    assert response.status_code == code
    alices_need.refresh_from_db()
    assert (alices_need.status != Status.SUBMITTED) is (code == 200)


@pytest.fixture
def alices_attachment(alices_need, media):
    return NeedAttachment.objects.create(need=alices_need, file=upload("报告.pdf"), original_name="报告.pdf", size=20)


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", 404), ("bob", 200), ("bianca", 200), ("charlie", 404), ("diana", 200),
     ("admin_user", 200), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_downloading_an_attachment_of_alices_need(api, persona, alices_attachment, who, code):
    url = attachment_url(alices_attachment.need_id, alices_attachment)
    response = api(persona(who)).get(url)
    assert response.status_code == code
    if code == 200:
        assert b"".join(response.streaming_content) == b"%PDF-1.4 test report"


def test_an_attachment_of_another_need_is_not_served_under_this_one(api, bob, alice_firm, alices_attachment):
    other = need(alice_firm)
    url = attachment_url(other.pk, alices_attachment)
    assert api(bob).get(url).status_code == 404


def test_an_attachment_missing_from_storage_answers_404(api, bob, alices_attachment):
    alices_attachment.file.delete(save=False)
    url = attachment_url(alices_attachment.need_id, alices_attachment)
    assert api(bob).get(url).status_code == 404


@pytest.mark.parametrize(("who", "code"), [("bob", FORBIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
                                            ("admin_user", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_only_sme_users_submit_needs(api, persona, alice_firm, who, code):
    payload = {"enterprise": alice_firm.pk, "service_area": 2, "title": "校准", "description": "需要校准"}
    assert api(persona(who)).post(reverse("api:need-list"), payload, format="multipart").status_code == code


# --- needs: submitting -------------------------------------------------------------------------


def test_an_sme_user_submits_a_need_with_attachments(api, alice, alice_firm, media):
    payload = {"enterprise": alice_firm.pk, "service_area": 2, "title": "天平校准",
               "description": "三台电子天平需要校准", "urgency": "high",
               "attachments": [upload("检测报告.pdf"), upload("photo.JPG")]}
    response = api(alice).post(reverse("api:need-list"), payload, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["urgency"], body["service_area"]) == ("submitted", "high", 2)
    assert [(event["from_status"], event["to_status"], event["actor"]) for event in body["events"]] == [
        (None, "submitted", "杨春华")
    ]
    assert [(a["name"], a["size"]) for a in body["attachments"]] == [
        ("检测报告.pdf", 20), ("photo.JPG", len(sample_file_content("photo.JPG")))]
    download = api(alice).get(body["attachments"][0]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test report"


def test_an_sme_user_cannot_submit_a_need_for_another_firm(api, olivia, alice_firm):
    payload = {"enterprise": alice_firm.pk, "service_area": 2, "title": "校准", "description": "校准"}
    response = api(olivia).post(reverse("api:need-list"), payload, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"enterprise"}
    assert not NeedRequest.objects.exists()


def test_it_refuses_an_attachment_of_a_forbidden_type(api, alice, alice_firm, media):
    payload = {"enterprise": alice_firm.pk, "service_area": 2, "title": "校准", "description": "校准",
               "attachments": [upload("setup.exe", b"MZ")]}
    response = api(alice).post(reverse("api:need-list"), payload, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"attachments": [
        "setup.exe: files of this type cannot be attached "
        "(allowed: .doc .docx .jpeg .jpg .pdf .png .txt .xls .xlsx)."
    ]}
    assert not NeedRequest.objects.exists()


def test_it_refuses_an_attachment_larger_than_the_limit(api, alice, alice_firm, media):
    payload = {"enterprise": alice_firm.pk, "service_area": 2, "title": "校准", "description": "校准",
               "attachments": [upload("scan.pdf", b"x" * (ATTACHMENT_MAX_BYTES + 1))]}
    response = api(alice).post(reverse("api:need-list"), payload, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"attachments": ["scan.pdf is larger than 10 MB."]}


def test_submitting_a_need_with_an_empty_body_lists_the_required_fields(api, alice):
    response = api(alice).post(reverse("api:need-list"), {}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"enterprise", "service_area", "title", "description"}


@pytest.mark.parametrize("enterprise", ["abc", "99999999999999999999", "-1"])
def test_a_malformed_enterprise_id_is_refused_per_field(api, alice, enterprise):
    payload = {"enterprise": enterprise, "service_area": 2, "title": "校准", "description": "校准"}
    response = api(alice).post(reverse("api:need-list"), payload, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"enterprise"}


# --- needs: triage -----------------------------------------------------------------------------


def test_declining_a_need_without_a_reason_is_refused(api, bob, alices_need):
    response = api(bob).post(need_url(alices_need, "decline"), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Give the reason for declining."]}
    alices_need.refresh_from_db()
    assert alices_need.status == Status.SUBMITTED


def test_a_need_is_declined_with_a_reason_recorded_in_its_history(api, bob, alices_need):
    response = api(bob).post(need_url(alices_need, "decline"), {"reason": "不属于质量服务"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["decline_reason"]) == ("declined", "不属于质量服务")
    assert [(e["from_status"], e["to_status"], e["actor"], e["note"]) for e in body["events"]] == [
        ("submitted", "declined", "王建国", "不属于质量服务")
    ]


def test_it_refuses_to_accept_a_declined_need(api, bob, alice_firm):
    declined = need(alice_firm, status=Status.DECLINED)
    response = api(bob).post(need_url(declined, "accept"), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A need that is Declined cannot become Accepted."]}


def test_a_need_is_marked_as_a_duplicate_of_another_of_the_same_firm(api, bob, alice_firm, alices_need):
    repeat = need(alice_firm, title="再次申请校准")
    response = api(bob).post(need_url(repeat, "duplicate"), {"original": alices_need.pk}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["duplicate_of"]) == ("declined", alices_need.pk)


def test_the_original_of_a_duplicate_must_be_a_need_the_regulator_can_see(api, bob, alices_need, tangshan_firm):
    elsewhere = need(tangshan_firm)
    response = api(bob).post(need_url(alices_need, "duplicate"), {"original": elsewhere.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"original": [f'Invalid pk "{elsewhere.pk}" - object does not exist.']}


def test_the_original_of_a_duplicate_must_belong_to_the_same_firm(api, bob, alices_need, olivia):
    other = need(olivia.enterprises.get())
    response = api(bob).post(need_url(alices_need, "duplicate"), {"original": other.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"original": ["The original must be a need of the same enterprise."]}


@pytest.mark.parametrize("original", ["abc", "", None, [1]])
def test_a_malformed_original_is_refused_per_field(api, bob, alices_need, original):
    response = api(bob).post(need_url(alices_need, "duplicate"), {"original": original}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"original"}


def test_a_triage_body_that_is_not_an_object_is_refused(api, bob, alices_need):
    response = api(bob).post(need_url(alices_need, "accept"), [1, 2], format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"non_field_errors"}


def test_a_need_is_accepted_with_an_empty_body(api, bob, alices_need):
    response = api(bob).post(need_url(alices_need, "accept"))
    assert response.status_code == 200
    assert response.json()["status"] == "triaged"


# --- surveys -----------------------------------------------------------------------------------

FOLLOW_UP_ANSWERS = {"awareness_improved": True, "performance_improved": False, "revenue_change_pct": "12.50",
                     "output_change_pct": "13", "profit_margin_change_pct": "-2.5"}


@pytest.fixture
def campaign(db):
    """A Hebei province campaign: it covers alice's firm in Shijiazhuang."""
    return CampaignFactory(name="河北省质量提升行动")


def test_an_sme_user_answers_the_baseline_survey(api, alice, alice_firm):
    payload = {"enterprise": alice_firm.pk, "kind": "baseline", "services_wanted": [2, 8]}
    response = api(alice).post(reverse("api:survey-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["services_wanted"]) == ("baseline", [2, 8])
    assert response.json()["campaign"] is None  # a baseline may be answered outside any campaign


def test_an_sme_user_answers_the_follow_up_survey_with_outcomes(api, alice, alice_firm, campaign):
    payload = {"enterprise": alice_firm.pk, "kind": "follow_up", "campaign": campaign.pk, **FOLLOW_UP_ANSWERS}
    response = api(alice).post(reverse("api:survey-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["awareness_improved"], response.json()["revenue_change_pct"]) == (True, "12.50")
    assert response.json()["campaign"] == campaign.pk
    assert NeedsSurvey.objects.get().campaign == campaign


def test_a_follow_up_survey_without_the_outcome_answers_or_a_campaign_is_refused_per_field(api, alice, alice_firm):
    payload = {"enterprise": alice_firm.pk, "kind": "follow_up", "revenue_change_pct": "5"}
    response = api(alice).post(reverse("api:survey-list"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "awareness_improved": ["A follow-up survey needs this answer."],
        "performance_improved": ["A follow-up survey needs this answer."],
        "campaign": ["Choose the campaign whose assistance this follow-up reports on."],
    }
    assert not NeedsSurvey.objects.exists()


@pytest.mark.parametrize("answers", [{"kind": "baseline"}, {"kind": "follow_up", **FOLLOW_UP_ANSWERS}])
def test_a_survey_naming_a_campaign_that_does_not_cover_the_firm_is_refused(api, alice, alice_firm, answers):
    tangshan = CampaignFactory(name="唐山市计量帮扶", region=region("130200"))
    payload = {"enterprise": alice_firm.pk, "campaign": tangshan.pk, **answers}
    response = api(alice).post(reverse("api:survey-list"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"campaign": ["This campaign does not cover the enterprise's region."]}
    assert not NeedsSurvey.objects.exists()


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", -1, 99999])
def test_a_malformed_or_unknown_survey_campaign_is_a_field_error(api, alice, alice_firm, value):
    payload = {"enterprise": alice_firm.pk, "kind": "baseline", "campaign": value}
    response = api(alice).post(reverse("api:survey-list"), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"campaign"}


def test_an_sme_user_cannot_answer_a_survey_for_another_firm(api, olivia, alice_firm):
    response = api(olivia).post(reverse("api:survey-list"), {"enterprise": alice_firm.pk, "kind": "baseline"},
                                format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"enterprise"}


@pytest.mark.parametrize(("who", "code"), [("bob", FORBIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
                                            ("anonymous", ANONYMOUS)])
def test_only_sme_users_answer_surveys(api, persona, alice_firm, who, code):
    payload = {"enterprise": alice_firm.pk, "kind": "baseline"}
    assert api(persona(who)).post(reverse("api:survey-list"), payload, format="json").status_code == code


@pytest.mark.parametrize(
    ("who", "code", "sees_it"),
    [("alice", 200, True), ("olivia", 200, False), ("bob", 200, True), ("bianca", 200, True),
     ("charlie", 200, False), ("diana", 200, True), ("admin_user", 200, True), ("erin", FORBIDDEN, False),
     ("anonymous", ANONYMOUS, False)],
)
def test_the_survey_list_shows_a_firms_answers_to_the_firm_and_its_regulators(api, persona, alice, alice_firm,
                                                                             olivia, who, code, sees_it):
    survey = NeedsSurvey.objects.create(enterprise=alice_firm, kind="baseline", answered_by=alice)
    response = api(persona(who)).get(reverse("api:survey-list"))
    assert response.status_code == code
    if code == 200:
        assert (survey.pk in ids(response)) is sees_it
    detail = api(persona(who)).get(reverse("api:survey-detail", kwargs={"pk": survey.pk}))
    assert detail.status_code == (code if sees_it or code != 200 else 404)


# --- bad input never answers 500 ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["abc/", "99999999999999999999/", "0/", "1.5/"])
@pytest.mark.parametrize("list_name", ["api:enterprise-list", "api:need-list", "api:claim-list",
                                       "api:survey-list"])
def test_malformed_or_unknown_ids_answer_404(api, admin_user, list_name, path):
    assert api(admin_user).get(reverse(list_name) + path).status_code == 404


@pytest.mark.parametrize("params", [{"page_size": "abc"}, {"page_size": "-3"}, {"page_size": "0"},
                                    {"page_size": "99999999999999999999"}])
def test_a_non_numeric_page_size_falls_back_to_the_default(api, bob, alice_firm, params):
    assert ids(api(bob).get(reverse("api:enterprise-list"), params)) == {alice_firm.pk}


@pytest.mark.parametrize("cursor", ["abc", "99", "-1", "WyJ4Il0", "W251bGwsICJ4Il0"])
def test_a_cursor_that_does_not_decode_gives_the_first_page(api, bob, alice_firm, cursor):
    for key in ("after", "before"):
        response = api(bob).get(reverse("api:enterprise-list"), {key: cursor})
        assert response.status_code == 200 and ids(response) == {alice_firm.pk}


@pytest.mark.parametrize(
    ("list_name", "params"),
    [("api:enterprise-list", {"size": "huge"}), ("api:enterprise-list", {"certification": "iso0"}),
     ("api:need-list", {"enterprise": "abc"}), ("api:need-list", {"enterprise": "99999999999999999999"}),
     ("api:need-list", {"service_area": "abc"}), ("api:need-list", {"service_area": "999"}),
     ("api:need-list", {"status": "lost"}), ("api:need-list", {"submitted_after": "yesterday"}),
     ("api:claim-list", {"status": "lost"}), ("api:survey-list", {"kind": "lost"})],
)
def test_an_invalid_filter_value_answers_400(api, bob, list_name, params):
    response = api(bob).get(reverse(list_name), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize("params", [{"region": "abc"}, {"region": "13"}, {"q": "\u4e00" * 300},
                                    {"industry": "ZZ"}])
def test_an_unmatched_filter_value_keeps_no_rows(api, bob, alice_firm, params):
    assert ids(api(bob).get(reverse("api:enterprise-list"), params)) == set()


# --- EnterpriseFilterSet, one test per filter --------------------------------------------------


@pytest.fixture
def registry(db):
    """Four firms across two provinces, with flags, certifications and needs to filter on."""
    firms = {
        "changan": firm("石家庄恒泰食品有限公司", "130102", industry=Industry.objects.get(code="13"), size="small"),
        "qiaoxi": firm("石家庄华兴食品制造有限公司", "130104", industry=Industry.objects.get(code="14"), size="medium",
                       is_key=True),
        "tangshan": firm("唐山丰华农业有限公司", "130203", industry=Industry.objects.get(code="01"), size="micro",
                         is_exporter=True, is_specialized=True),
        "taiyuan": firm("太原利民商贸有限公司", "140105", industry=Industry.objects.get(code="51"), size="large",
                        in_industrial_park=True),
    }
    Certification.objects.create(enterprise=firms["qiaoxi"], scheme="iso9001", number="Q1", body="CQC",
                                 issued_on=datetime.date(2023, 5, 1))
    Certification.objects.create(enterprise=firms["tangshan"], scheme="haccp", number="H1", body="CQC",
                                 issued_on=datetime.date(2023, 5, 1))
    need(firms["changan"], status=Status.SUBMITTED)
    need(firms["qiaoxi"], status=Status.IN_PROGRESS)
    need(firms["tangshan"], status=Status.FULFILLED)
    return firms


def kept(api, admin_user, registry, params) -> set[str]:
    by_name = {enterprise.name: key for key, enterprise in registry.items()}
    return {by_name[name] for name in names(api(admin_user).get(reverse("api:enterprise-list"), params))}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "恒泰"}, {"changan"}),
        ({"region": "130000"}, {"changan", "qiaoxi", "tangshan"}),
        ({"region": "130100"}, {"changan", "qiaoxi"}),
        ({"region": "130104"}, {"qiaoxi"}),
        ({"industry": "C"}, {"changan", "qiaoxi"}),
        ({"industry": "c"}, {"changan", "qiaoxi"}),
        ({"industry": "01"}, {"tangshan"}),
        ({"size": "medium"}, {"qiaoxi"}),
        ({"size": ["micro", "large"]}, {"tangshan", "taiyuan"}),
        ({"is_key": "true"}, {"qiaoxi"}),
        ({"is_key": "false"}, {"changan", "tangshan", "taiyuan"}),
        ({"is_specialized": "true"}, {"tangshan"}),
        ({"is_exporter": "true"}, {"tangshan"}),
        ({"in_industrial_park": "true"}, {"taiyuan"}),
        ({"certification": "iso9001"}, {"qiaoxi"}),
        ({"certification": "haccp"}, {"tangshan"}),
        ({"has_open_needs": "true"}, {"changan", "qiaoxi"}),
        ({"has_open_needs": "false"}, {"tangshan", "taiyuan"}),
    ],
    ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_each_enterprise_filter_keeps_the_matching_firms(api, admin_user, registry, params, expected):
    assert kept(api, admin_user, registry, params) == expected


def test_the_q_filter_matches_a_credit_code_prefix_typed_in_lower_case(api, admin_user, registry):
    prefix = registry["tangshan"].uscc[:12].lower()
    assert kept(api, admin_user, registry, {"q": prefix}) == {"tangshan"}


def test_filters_never_widen_the_jurisdiction(api, bob, registry):
    response = api(bob).get(reverse("api:enterprise-list"), {"region": "130000"})
    assert names(response) == {registry["changan"].name, registry["qiaoxi"].name}


def test_the_list_flags_firms_with_open_needs(api, admin_user, registry):
    rows = api(admin_user).get(reverse("api:enterprise-list")).json()["results"]
    assert {row["name"] for row in rows if row["has_open_needs"]} == {registry["changan"].name,
                                                                       registry["qiaoxi"].name}


# --- NeedFilterSet, one test per filter --------------------------------------------------------


@pytest.fixture
def needs_board(registry):
    """Needs of the registry's firms in every status the filters tell apart."""
    NeedRequest.objects.all().delete()
    return {
        "submitted": need(registry["changan"], status=Status.SUBMITTED, service_area=2, urgency="urgent",
                          title="电子天平校准"),
        "triaged": need(registry["changan"], status=Status.TRIAGED, service_area=8),
        "declined": need(registry["qiaoxi"], status=Status.DECLINED, service_area=2),
        "fulfilled": need(registry["tangshan"], status=Status.FULFILLED, service_area=4, urgency="high"),
        "taiyuan": need(registry["taiyuan"], status=Status.MATCHED, service_area=10, urgency="low"),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "declined"}, {"declined"}),
        ({"status": ["submitted", "fulfilled"]}, {"submitted", "fulfilled"}),
        ({"open": "true"}, {"submitted", "triaged", "taiyuan"}),
        ({"open": "false"}, {"declined", "fulfilled"}),
        ({"service_area": "2"}, {"submitted", "declined"}),
        ({"urgency": "urgent"}, {"submitted"}),
        ({"urgency": ["high", "low"]}, {"fulfilled", "taiyuan"}),
        ({"region": "130000"}, {"submitted", "triaged", "declined", "fulfilled"}),
        ({"region": "130200"}, {"fulfilled"}),
        ({"region": "130102"}, {"submitted", "triaged"}),
        ({"q": "天平"}, {"submitted"}),
    ],
    ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_each_need_filter_keeps_the_matching_needs(api, admin_user, needs_board, params, expected):
    by_id = {item.pk: key for key, item in needs_board.items()}
    response = api(admin_user).get(reverse("api:need-list"), params)
    assert {by_id[pk] for pk in ids(response)} == expected


def test_the_enterprise_need_filter_keeps_that_firms_needs(api, admin_user, registry, needs_board):
    response = api(admin_user).get(reverse("api:need-list"), {"enterprise": registry["changan"].pk})
    assert ids(response) == {needs_board["submitted"].pk, needs_board["triaged"].pk}


# --- query counts ------------------------------------------------------------------------------


@pytest.fixture
def busy_city(bob, alice):
    """25 more firms in bob's city, each with a need, a pending claim and a survey."""
    firms = [firm(f"石家庄测试{n:02d}有限公司", "130104" if n % 2 else "130102") for n in range(25)]
    claimant = UserFactory(role=User.Role.SME)
    for enterprise in firms:
        need(enterprise, status=Status.SUBMITTED if enterprise.pk % 3 else Status.FULFILLED)
        EnterpriseClaim.objects.create(enterprise=enterprise, user=claimant)
        survey = NeedsSurvey.objects.create(enterprise=enterprise, kind="baseline", answered_by=alice)
        survey.services_wanted.set([1, 2])
    return firms


@pytest.mark.parametrize("page_size", [2, 20])
@pytest.mark.parametrize(
    ("list_name", "queries"),
    [
        # 1 COUNT (on PostgreSQL after the planner's estimate, ESTIMATE_QUERIES); 1 page of firms
        # joined to region -> city -> province and industry, has_open_needs a column.
        ("api:enterprise-list", 2),
        # 1 COUNT; 1 page of needs joined to enterprise, its region and the service area.
        ("api:need-list", 2),
        # 1 COUNT; 1 page of claims joined to enterprise, region, claimant and decider.
        ("api:claim-list", 2),
        # 1 COUNT; 1 page of surveys joined to enterprise and answerer; 1 prefetch of services wanted.
        ("api:survey-list", 3),
    ],
)
def test_list_endpoints_run_a_constant_number_of_queries(api, bob, busy_city, django_assert_num_queries, list_name,
                                                         queries, page_size):
    client = api(bob)
    if list_name == "api:enterprise-list":
        queries += ESTIMATE_QUERIES
    with django_assert_num_queries(queries):
        response = client.get(reverse(list_name), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
