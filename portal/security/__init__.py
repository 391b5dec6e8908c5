"""Account and input protection (等保 2.0 level 3, OWASP ASVS 4.0.3 level 2).

Lockout glue (django-axes), session limits, password policy, two-factor sign-in (django-otp),
API tokens, security events, JSON limits, response headers and the OpenAPI error responses.
"""
