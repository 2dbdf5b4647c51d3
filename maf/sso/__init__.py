"""Single sign-on with OpenID Connect (e.g. a council's Microsoft Entra ID)."""
