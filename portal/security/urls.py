from django.urls import path

from portal.security import views

app_name = "security"

urlpatterns = [
    path("2fa/", views.two_factor, name="2fa"),
    path("2fa/enrol/", views.two_factor_enrol, name="2fa-enrol"),
    path("2fa/verify/", views.two_factor_verify, name="2fa-verify"),
    path("2fa/recovery-codes/", views.two_factor_recovery_codes, name="2fa-recovery-codes"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("lockouts/", views.lockout_list, name="lockouts"),
    path("lockouts/<int:pk>/lift/", views.lockout_lift, name="lockout-lift"),
    path("2fa/reset/", views.two_factor_reset, name="2fa-reset"),
    path("events/", views.event_list, name="events"),
]
