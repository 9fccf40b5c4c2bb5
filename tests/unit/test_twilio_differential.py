"""The webhook signature check against twilio's own ``RequestValidator`` (the ``twilio``
package, a test dependency), on generated URLs (schemes, hosts, default, non-default and no
ports, paths, queries), parameters and both signing algorithms: whatever twilio's validator
accepts or refuses, ours does too."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from providers.twilio import HMAC_SHA1, HMAC_SHA256, compute_signature, signature_is_valid

TOKEN = "0123456789abcdef0123456789abcdef"
WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
PORTS = st.one_of(st.none(), st.sampled_from([80, 443, 8080, 8443]), st.integers(1, 65535))


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    host = ".".join(draw(st.lists(WORD, min_size=1, max_size=3)))
    port = draw(PORTS)
    path = "/".join(draw(st.lists(WORD, max_size=3)))
    query = urlencode(draw(st.lists(st.tuples(WORD, TEXT), max_size=3)))
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}/{path}" + (f"?{query}" if query else "")


def _port_forms(url: str) -> list[str]:
    """The forms a proxy may hand on: as is, default port added, any port dropped."""
    scheme, rest = url.split("://", 1)
    netloc, slash, tail = rest.partition("/")
    host = netloc.rsplit(":", 1)[0] if ":" in netloc else netloc
    default = "443" if scheme == "https" else "80"
    return [url, f"{scheme}://{host}/{tail}", f"{scheme}://{host}:{default}{slash}{tail}"]


PARAMS = st.dictionaries(WORD.map(str.capitalize), TEXT, max_size=5)
ALGORITHMS = st.sampled_from([HMAC_SHA1, HMAC_SHA256])


@settings(max_examples=300, deadline=None)
@given(url=urls(), params=PARAMS, algorithm=ALGORITHMS)
def test_our_signature_is_twilios(url: str, params: dict[str, str], algorithm: str) -> None:
    ours = compute_signature(TOKEN, url, list(params.items()), algorithm)
    assert ours == RequestValidator(TOKEN).compute_signature(url, params, algorithm)


@settings(max_examples=400, deadline=None)
@given(
    signed_url=urls(),
    form=st.integers(0, 2),
    params=PARAMS,
    algorithm=ALGORITHMS,
    tamper=st.sampled_from(["none", "param", "url", "algorithm"]),
)
def test_we_accept_exactly_what_twilio_accepts(
    signed_url: str, form: int, params: dict[str, str], algorithm: str, tamper: str
) -> None:
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(signed_url, params, algorithm)
    received = _port_forms(signed_url)[form]
    checked = dict(params)
    used = algorithm
    if tamper == "param":
        checked["Tampered!"] = "1"
    elif tamper == "url":
        received += "x"
    elif tamper == "algorithm":
        used = HMAC_SHA256 if algorithm == HMAC_SHA1 else HMAC_SHA1
    expected = validator.validate(received, checked, signature, used)
    assert signature_is_valid(TOKEN, received, list(checked.items()), signature, b"", used) == (
        expected
    )
    if tamper != "none":
        assert not expected  # any change is refused (and untampered cases are accepted
        # unless the port form cannot be undone: both answers are reached)


def test_a_signature_over_the_url_without_its_non_default_port_is_accepted() -> None:
    # Twilio calls https://sms.example.com/hook; a proxy hands on https://sms.example.com:8443/hook.
    signature = RequestValidator(TOKEN).compute_signature("https://sms.example.com/hook", {})
    received = "https://sms.example.com:8443/hook"
    assert RequestValidator(TOKEN).validate(received, {}, signature)
    assert signature_is_valid(TOKEN, received, [], signature)
