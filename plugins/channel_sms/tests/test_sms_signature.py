"""Twilio's request signature, checked against Twilio's own published example."""

from jack_channel_sms.signature import signature_is_valid, url_variants
from sms_helpers import twilio_sign

# The example of Twilio's "Validating requests" documentation: auth token 12345.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}
DOC_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="
# The same example as older docs and the helper libraries' tests print it (caller ...5309).
OLD_DOC_PARAMS = {**DOC_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
OLD_DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_validator_accepts_twilios_documented_example_exactly():
    assert signature_is_valid("12345", DOC_URL, DOC_PARAMS.items(), DOC_SIGNATURE)
    assert signature_is_valid("12345", DOC_URL, OLD_DOC_PARAMS.items(), OLD_DOC_SIGNATURE)
    # and the independent computation in the tests agrees with the published values
    assert twilio_sign(DOC_URL, DOC_PARAMS, token="12345") == DOC_SIGNATURE
    assert twilio_sign(DOC_URL, OLD_DOC_PARAMS, token="12345") == OLD_DOC_SIGNATURE


def test_validator_rejects_any_change():
    assert not signature_is_valid("12346", DOC_URL, DOC_PARAMS.items(), DOC_SIGNATURE)
    assert not signature_is_valid("12345", DOC_URL.replace("https", "http"), DOC_PARAMS.items(), DOC_SIGNATURE)
    assert not signature_is_valid("12345", DOC_URL, {**DOC_PARAMS, "Digits": "1235"}.items(), DOC_SIGNATURE)
    assert not signature_is_valid("12345", DOC_URL, DOC_PARAMS.items(), DOC_SIGNATURE.lower())
    assert not signature_is_valid("12345", DOC_URL, DOC_PARAMS.items(), "")
    assert not signature_is_valid("", DOC_URL, DOC_PARAMS.items(), DOC_SIGNATURE)


def test_default_port_is_tolerated_both_ways():
    assert url_variants("https://h.example/x?a=1") == ["https://h.example/x?a=1", "https://h.example:443/x?a=1"]
    assert url_variants("https://h.example:443/x") == ["https://h.example:443/x", "https://h.example/x"]
    signed_with_port = twilio_sign("https://h.example:443/webhooks/sms", {"Body": "hi"})
    assert signature_is_valid("twilio-test-auth-token", "https://h.example/webhooks/sms", [("Body", "hi")], signed_with_port)
