"""Messages composed from the templates in app/mail/templates: a text part and an HTML part.

Each kind of message is three files: `<kind>.subject.txt`, `<kind>.txt` and `<kind>.html`
(which extends `layout.html`). Edit them freely; the values they get are the project's
name and what the code that sends the message passes.
"""

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.config import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
# HTML is escaped (a user's name may hold markup); text parts are not HTML and are not.
# StrictUndefined: a template that names a value nobody passes fails, in the tests.
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def link(settings: Settings, page: str, token: str) -> str:
    """The front end's `page` with the token in the URL fragment: a browser sends the
    fragment to no server, so the token reaches neither a server's log nor a Referer."""
    return f"{settings.frontend_url.rstrip('/')}/{page}#token={quote(token, safe='')}"


def compose(kind: str, to: str, settings: Settings, **values: object) -> EmailMessage:
    """The message `kind` to `to`, rendered with the project's name and `values`."""
    values = {"project_name": settings.project_name, **values}
    sender = settings.mail_from or f"{settings.project_name} <no-reply@localhost>"
    message = EmailMessage()
    subject = _templates.get_template(f"{kind}.subject.txt").render(values)
    message["Subject"] = " ".join(subject.split())
    message["From"] = sender
    message["To"] = to
    # Both headers are expected of every message; without them filters score it as spam.
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(_templates.get_template(f"{kind}.txt").render(values))
    message.add_alternative(_templates.get_template(f"{kind}.html").render(values), subtype="html")
    return message
