"""Domain names as people type them, turned into the one form Postroom stores and checks.

The public-suffix test uses a small built-in list of common multi-label public suffixes
(co.uk, com.au, github.io, …), not the full Public Suffix List: a single-label name is refused
anyway ("at least two labels"), and the list catches the registrable suffixes people most
often paste by mistake. See docs/domains.md.
"""
from __future__ import annotations

import ipaddress
import re

import idna

from portal.accounts.services import AccountError

DOMAIN_HINT = "Enter a domain name such as example.com"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Second-level public suffixes under which anyone can register (or host) a name.
PUBLIC_SUFFIXES = frozenset("""
co.uk org.uk me.uk ltd.uk plc.uk net.uk ac.uk gov.uk sch.uk nhs.uk police.uk
com.au net.au org.au edu.au gov.au asn.au id.au
co.nz net.nz org.nz govt.nz ac.nz school.nz geek.nz
co.jp ne.jp or.jp ac.jp go.jp gr.jp ed.jp
co.kr or.kr ne.kr go.kr ac.kr
com.br net.br org.br gov.br edu.br
com.cn net.cn org.cn gov.cn edu.cn ac.cn
com.mx org.mx gob.mx net.mx edu.mx
co.in net.in org.in firm.in gen.in ind.in gov.in ac.in edu.in
co.za org.za net.za gov.za ac.za web.za
com.ar com.co com.pe com.ve com.ec com.uy com.py com.bo
com.tr org.tr net.tr gov.tr edu.tr
com.sg org.sg net.sg edu.sg gov.sg
com.hk org.hk net.hk edu.hk gov.hk
com.tw org.tw net.tw edu.tw gov.tw
com.my org.my net.my gov.my edu.my
co.id or.id web.id ac.id go.id
com.ph org.ph net.ph gov.ph edu.ph
co.th or.th in.th ac.th go.th
com.vn net.vn org.vn gov.vn edu.vn
com.ua org.ua net.ua gov.ua
co.il org.il net.il ac.il gov.il
com.eg com.sa com.pk com.ng com.gh co.ke or.ke co.tz co.ug
com.es org.es nom.es gob.es edu.es
com.pl net.pl org.pl
com.pt org.pt gov.pt
co.at or.at gv.at ac.at
com.gr org.gr gov.gr edu.gr
com.ru org.ru net.ru msk.ru spb.ru
com.de co.com us.com uk.com eu.com
github.io gitlab.io herokuapp.com appspot.com blogspot.com netlify.app vercel.app
pages.dev workers.dev web.app firebaseapp.com azurewebsites.net cloudfront.net
""".split())


class DomainError(AccountError):
    """A user-facing problem with a sending domain; `field` names the form/API field."""


class DomainNameError(DomainError):
    """The typed domain (or mailbox) is not one Postroom can send from."""


def normalise_domain(raw: str | None) -> str:
    """Trim, lower-case, drop the trailing dot and turn an IDN into punycode, then validate."""
    name = (raw or "").strip().lower().rstrip(".")
    if not name:
        raise DomainNameError(DOMAIN_HINT, "name")
    if _is_ip_address(name):
        raise DomainNameError(f"{DOMAIN_HINT}, not an IP address", "name")
    if "://" in name or any(ch in name for ch in "/:@?#\\ \t"):
        raise DomainNameError(f"{DOMAIN_HINT} (only the name: no https://, path, port or "
                              "address)", "name")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise DomainNameError(DOMAIN_HINT, "name") from None
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise DomainNameError(DOMAIN_HINT, "name")
    if labels[-1].isdigit():
        raise DomainNameError(DOMAIN_HINT, "name")
    if name in PUBLIC_SUFFIXES:
        raise DomainNameError(f"{DOMAIN_HINT}: {name} is a public suffix that many people "
                              "register under, not a domain of your own", "name")
    return name


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def unicode_name(name: str) -> str:
    """The IDN form of a stored punycode name, for display; the name itself when it has none."""
    if "xn--" not in name:
        return name
    try:
        return idna.decode(name)
    except idna.IDNAError:
        return name


def relative_host(fqdn: str, domain: str) -> str:
    """The host as most DNS panels want it: relative to the domain, `@` for the apex."""
    if fqdn == domain:
        return "@"
    return fqdn[: -(len(domain) + 1)]


MAILBOX_HINT = "Use letters, digits, dots, hyphens or underscores, such as notifications"
_MAILBOX = re.compile(r"^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$")


def normalise_mailbox(raw: str | None) -> str:
    """The local part of the from address: plain, lower-case, safe in any header."""
    mailbox = (raw or "").strip().lower()
    if not _MAILBOX.match(mailbox) or ".." in mailbox:
        raise DomainNameError(MAILBOX_HINT, "mailbox")
    return mailbox
