from tests.sso.oidc import oidc_provider, use_sso  # noqa: F401  (fixtures)
