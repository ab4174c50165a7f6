"""HTTP for the patient's privacy rights: the notice, the personal page and its actions (each a
form POST with CSRF: a GET never changes anything, mail scanners open links), and the form
that mails a fresh link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from sqlalchemy.ext.asyncio import AsyncSession

from service.content.documents import privacy_notice
from service.db import Database
from service.leads import privacy
from service.leads.controllers import client_of
from service.leads.privacy import ErasedBy, Link, LinkState
from service.settings import Settings

AnyRequest = Request[Any, Any, Any]
# The address of a personal page is its key: not cached, not indexed, not sent on as Referer.
PERSONAL = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
UNAVAILABLE = {LinkState.invalid: 404, LinkState.expired: 410, LinkState.erased: 410}
FORM_LIMIT = 2000  # characters of a form value looked at; more is not an answer
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _form(request: AnyRequest) -> dict[str, str]:
    """The posted form; a body of any other type is refused (every action is a page's form)."""
    if request.content_type[0] not in FORM_TYPES:
        raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    posted = await request.form()
    return {key: str(value)[:FORM_LIMIT] for key, value in posted.items()}


def _link_page(
    *,
    language: str,
    state: LinkState | None = None,
    sent: bool = False,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
) -> Template:
    """The page for a fresh link: after an expired or broken link, on its own, or sent."""
    return Template(
        template_name="privacy_link.html",
        context={
            "t": privacy.wording(language),
            "lang": language,
            "state": state,
            "sent": sent,
            "error": error,
            "email": email,
        },
        status_code=status_code,
        headers=PERSONAL,
    )


def _unavailable(link: Link) -> Template:
    if link.state is LinkState.erased and link.lead is not None:
        return Template(
            template_name="privacy_erased.html",
            context={"t": privacy.wording(link.language), "lang": link.language, "lead": link.lead},
            status_code=UNAVAILABLE[link.state],
            headers=PERSONAL,
        )
    return _link_page(language=link.language, state=link.state, status_code=UNAVAILABLE[link.state])


async def _personal_page(
    *,
    session: AsyncSession,
    link: Link,
    token: str,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    assert link.lead is not None
    record = await privacy.privacy_record(session=session, lead=link.lead)
    language = link.language
    return Template(
        template_name="privacy.html",
        context={
            "t": privacy.wording(language),
            "lang": language,
            "record": record,
            "lead": link.lead,
            "rows": privacy.page_rows(record, language=language),
            "email_state": lambda email: privacy.email_state(email, language=language),
            "token": token,
            "done": done,
            "error": error,
        },
        status_code=status_code,
        headers=PERSONAL,
    )


class PrivacyPages(Controller):
    include_in_schema = False

    @get("/privacy", name="privacy:notice", cache=False)
    async def notice(
        self, session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]
    ) -> Template:
        facilitators = await privacy.active_facilitators(session=session)
        return Template(
            template_name="privacy_notice.html",
            context={
                "notice": privacy_notice(),
                "body": privacy.notice_html(settings=settings, facilitators=facilitators),
            },
        )

    @get("/privacy/link", name="privacy:link", cache=False)
    async def link_form(self, request: AnyRequest) -> Template:
        return _link_page(language=privacy.language_of(request.query_params.get("lang")))

    @post("/privacy/link", name="privacy:link:send", status_code=200)
    async def send_link(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template:
        form = await _form(request)
        language = privacy.language_of(form.get("lang"))
        address = privacy.normalise_address(form.get("email", ""))
        if address is None:
            error = privacy.wording(language)["new_link_bad_address"]
            return _link_page(
                language=language, error=error, email=form.get("email", ""), status_code=400
            )
        allowed = await database.write(
            privacy.request_fresh_link,
            address=address,
            ip=client_of(request, "form").ip,
            settings=settings,
            now=now,
        )
        if not allowed:
            error = privacy.wording(language)["new_link_too_many"]
            return _link_page(
                language=language, error=error, email=form.get("email", ""), status_code=429
            )
        return _link_page(language=language, sent=True)

    @get("/privacy/{token:str}", name="privacy:page", cache=False)
    async def page(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template:
        link = await privacy.open_link(session=session, token=token, settings=settings, now=now)
        if link.state is not LinkState.valid:
            return _unavailable(link)
        done = request.query_params.get("done")
        return await _personal_page(session=session, link=link, token=token, done=done)

    @post("/privacy/{token:str}/download", name="privacy:download", status_code=200)
    async def download(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Response[Any]:
        await _form(request)
        link = await privacy.open_link(session=session, token=token, settings=settings, now=now)
        if link.state is not LinkState.valid or link.lead is None:
            return _unavailable(link)
        await database.write(privacy.record_download, lead_id=link.lead.id, now=now)
        record = await privacy.privacy_record(session=session, lead=link.lead)
        name = f"quote-request-{link.lead.reference}.json"
        return Response(
            privacy.download(record, now=now),
            media_type=MediaType.JSON,
            headers={**PERSONAL, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post("/privacy/{token:str}/marketing", name="privacy:marketing")
    async def withdraw_marketing(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        await _form(request)
        link = await privacy.open_link(session=session, token=token, settings=settings, now=now)
        if link.state is not LinkState.valid or link.lead is None:
            return _unavailable(link)
        client = client_of(request, "form")
        await database.write(
            privacy.withdraw_marketing,
            lead_id=link.lead.id,
            ip=client.ip,
            user_agent=client.user_agent,
            now=now,
        )
        target = request.app.route_reverse("privacy:page", token=token)
        return Redirect(f"{target}?done=marketing", status_code=303, headers=PERSONAL)

    @post("/privacy/{token:str}/erase", name="privacy:erase")
    async def erase(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        form = await _form(request)
        link = await privacy.open_link(session=session, token=token, settings=settings, now=now)
        if link.state is not LinkState.valid or link.lead is None:
            return _unavailable(link)
        if form.get("confirm") != "yes":
            error = privacy.wording(link.language)["erase_confirm_missing"]
            return await _personal_page(
                session=session, link=link, token=token, error=error, status_code=400
            )
        await database.write(
            privacy.erase,
            lead_id=link.lead.id,
            by=ErasedBy.patient,
            actor=privacy.PATIENT,
            settings=settings,
            now=now,
        )
        target = request.app.route_reverse("privacy:page", token=token)
        return Redirect(target, status_code=303, headers=PERSONAL)
