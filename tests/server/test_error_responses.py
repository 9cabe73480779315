"""The one shape of a refusal: it can always be sent, whatever text it quotes."""

from __future__ import annotations

import json

from dagyard.server.responses import INVALID_ARGUMENT, error_response


def test_a_refusal_quoting_a_lone_surrogate_is_sent_with_it_escaped() -> None:
    # JSON bodies may carry "\ud800", which no UTF-8 answer can hold as it is.
    answer = error_response(400, INVALID_ARGUMENT, "No parameter '\ud800' here")
    body = json.loads(answer.body)
    assert answer.status_code == 400
    assert body == {
        "error": "No parameter '\\ud800' here",
        "code": INVALID_ARGUMENT,
        "message": "No parameter '\\ud800' here",
    }


def test_a_refusal_keeps_well_formed_text_as_it_is() -> None:
    answer = error_response(404, 5, "No run called 'naïve ✓'")
    assert json.loads(answer.body)["message"] == "No run called 'naïve ✓'"
