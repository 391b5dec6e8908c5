"""Account pages of the portal itself: an SME contact person signs up."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal.forms import SignupForm
from portal.models import User

Role = User.Role


def signup(request):
    """An SME contact person opens an account, then registers or claims the firm."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Register your enterprise, or claim it if it is already listed."))
        return redirect("enterprises:register")
    return render(request, "registration/signup.html", {"form": form})


