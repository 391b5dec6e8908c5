"""Full-width characters from a Chinese input method are read as the ASCII characters they stand for
before a credit code, phone number or code is checked (issue 13, finding 4)."""

import unicodedata

import pytest
from django.urls import reverse

from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc, normalise
from portal.forms import SignupForm, halfwidth
from tests.test_enterprise_pages import register_data

pytestmark = pytest.mark.django_db


def fullwidth(text: str) -> str:
    """What a Chinese input method in full-width mode types for `text`."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else "\u3000" if char == " " else char
                   for char in text)


def test_fullwidth_is_what_an_input_method_types():
    assert fullwidth("91 a@") == "９１\u3000ａ＠"
    assert unicodedata.normalize("NFKC", fullwidth("91 a@")) == "91 a@"


def test_a_fullwidth_credit_code_normalises_to_the_code():
    code = generate_uscc("130104")
    assert normalise(fullwidth(code.lower()[:6] + " " + code[6:])) == code


def test_an_sme_registers_with_a_credit_code_and_phone_typed_in_fullwidth(client_for, alice):
    data = register_data()
    code = data["uscc"]
    data.update(uscc=fullwidth(code), contact_phone=fullwidth("139-0000-0000"),
                contact_email=fullwidth("wang@example.cn"), region=fullwidth("130104"))
    response = client_for(alice).post(reverse("enterprises:register"), data)
    assert response.status_code == 302
    firm = Enterprise.objects.get(uscc=code)
    assert (firm.contact_phone, firm.contact_email, firm.region_id) == ("139-0000-0000", "wang@example.cn", "130104")


def test_a_lookalike_letter_outside_the_alphabet_is_named_as_itself(client_for, alice):
    code = generate_uscc("130104")
    typed = fullwidth(code[:10]) + "Ｏ" + fullwidth(code[11:])
    response = client_for(alice).post(reverse("enterprises:register"), register_data(uscc=typed))
    assert response.status_code == 200
    [message] = response.context["form"].errors["uscc"]
    assert "O" in message and "Ｏ" not in message
    assert not Enterprise.objects.filter(uscc__startswith=code[:10]).exists()


@pytest.mark.parametrize(("typed", "valid"), [
    (fullwidth("13800000000"), True), ("０３１１－８７６５４３２１", True), ("١٣٨٠٠٠٠٠٠٠٠", False), ("电话号码", False),
])
def test_signup_reads_fullwidth_phone_digits_and_refuses_other_scripts(typed, valid):
    form = SignupForm({"username": "newfirm", "full_name": "王芳", "phone": typed, "email": "",
                       "password1": "Kx9!mPq2#vLw", "password2": "Kx9!mPq2#vLw"})
    assert form.is_valid() is valid
    if valid:
        assert form.cleaned_data["phone"] == halfwidth(typed)
    else:
        assert "phone" in form.errors
