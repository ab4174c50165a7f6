"""The form's hidden fields as a tampering client or a broken proxy sends them: the patient is
told what to do, keeps what they typed, and the form they get back goes through."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import hidden_inputs, open_form, quote_form, stored_leads, submit_form

SEND_AGAIN = "Your request could not be sent as it was. Please send it again"


async def test_an_over_long_submission_id_asks_the_patient_to_send_again(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client) | {"submission_id": "x" * 300}
    response = await submit_form(client, quote_form(full_name="Zoë Müller"), hidden=hidden)
    assert response.status_code == 400
    assert SEND_AGAIN in response.text
    assert "Keep this under 255 characters." not in response.text  # of a field nobody sees
    assert 'value="Zoë Müller"' in response.text
    assert await stored_leads(settings.database_url) == []

    again = await submit_form(
        client, quote_form(full_name="Zoë Müller"), hidden_inputs(response.text)
    )
    assert again.status_code == 303
    assert [lead.full_name for lead in await stored_leads(settings.database_url)] == ["Zoë Müller"]
