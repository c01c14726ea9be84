"""Token decisions logged in French, German, Spanish, Portuguese and Italian read as the English ones."""

from __future__ import annotations

import pytest

from tests.test_classify import TRACE, app_line, one, run_request


@pytest.mark.parametrize(
    ("line", "label", "detail"),
    [
        (
            "\x1b[31mERROR\x1b[0m authentification refusée : jeton invalide (signature incorrecte)",
            "invalid_jwt",
            "bad_signature",
        ),
        ("Zugriff verweigert: Token ungültig", "invalid_jwt", None),
        ("JWT abgelaufen", "invalid_jwt", "expired"),
        ("autenticación fallida: el token ha caducado", "invalid_jwt", "expired"),
        ("token inválido: firma no válida", "invalid_jwt", "bad_signature"),
        ("acesso negado: token expirado", "invalid_jwt", "expired"),
        ("accesso negato: token non valido", "invalid_jwt", None),
        ("jeton expiré", "invalid_jwt", "expired"),
        (
            "Verbindung abgelehnt: kein Token im Handshake (Authorization-Header fehlt)",
            "missing_jwt",
            None,
        ),
        ("connexion refusée : aucun jeton fourni", "missing_jwt", None),
        ("solicitud sin token", "missing_jwt", None),
        ("acesso negado: token ausente", "missing_jwt", None),
        ("richiesta senza token (header Authorization mancante)", "missing_jwt", None),
    ],
)
def test_locale_token_decisions_are_read(line: str, label: str, detail: str | None) -> None:
    """A non-English token rejection is read as the JWT label (and check) its words name."""
    v = one([run_request(401, "/rechnung"), app_line(line, trace=TRACE)])
    assert (v.root_cause, v.detail) == (label, detail), (line, v.reason)


def test_refusal_naming_a_token_is_never_a_generic_middleware_refusal() -> None:
    """An auth refusal that names the token but no check the rules know is unknown, not middleware_rejection."""
    v = one(
        [run_request(401, "/x"), app_line("authentification refusée : jeton xyzzy", trace=TRACE)]
    )
    assert v.root_cause == "unknown"


def test_locale_missing_or_invalid_names_two_causes() -> None:
    """'jeton manquant ou invalide' says no more for one JWT label than the other: never a confident label."""
    v = one([run_request(401, "/x"), app_line("jeton manquant ou invalide", trace=TRACE)])
    assert v.root_cause == "unknown"


def test_locale_rules_leave_english_lines_as_they_were() -> None:
    """English 'expires' (a live token) is no expiry, and 'token invalid or missing' stays an even conflict."""
    v = one([run_request(401, "/x"), app_line("token expires in 3600s, scope denied", trace=TRACE)])
    assert v.root_cause != "invalid_jwt"
    v = one([run_request(401, "/x"), app_line("auth: token invalid or missing", trace=TRACE)])
    assert v.root_cause == "unknown"
    assert "invalid_jwt (0.80) vs missing_jwt (0.80)" in (v.reason or ""), v.reason
