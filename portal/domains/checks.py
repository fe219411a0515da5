"""Compare what DNS serves with what a domain must publish, one record at a time.

Each record ends up `ok`, `missing`, `mismatch` (with what was found), `lookup_failed` (the
lookup itself failed: not the admin's fault, retried) or `not_checked`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.domains.lookup import DnsLookup, LookupFailed
from portal.domains.records import OWNERSHIP_PREFIX, ExpectedRecord

# RFC 7208 §4.6.4: an SPF evaluation may cause at most 10 DNS lookups.
SPF_LOOKUP_LIMIT = 10
_SPF = re.compile(r"^v=spf1(\s|$)", re.IGNORECASE)
_SPF_LOOKUP_TERMS = ("a", "mx", "ptr", "exists")


@dataclass(frozen=True)
class RecordResult:
    status: str
    found: tuple[str, ...] = ()
    message: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "found": list(self.found), "message": self.message}


NOT_CHECKED = RecordResult("not_checked", (), "Not checked yet.")


def check_records(expected: list[ExpectedRecord], lookup: DnsLookup) -> dict[str, RecordResult]:
    """Check every expected record; a failed lookup affects only the record that needed it."""
    results = {}
    for record in expected:
        try:
            results[record.kind] = _CHECKERS[record.kind](record, lookup)
        except LookupFailed as exc:
            results[record.kind] = RecordResult(
                "lookup_failed", (), f"{exc}. This is not a problem with your records; "
                "Postroom will look again.")
    return results


def _check_ownership(record: ExpectedRecord, lookup: DnsLookup) -> RecordResult:
    token = record.value[len(OWNERSHIP_PREFIX):]
    ours = [v for v in lookup.txt(record.name) if v.lower().startswith(OWNERSHIP_PREFIX)]
    if any(v[len(OWNERSHIP_PREFIX):].strip() == token for v in ours):
        return RecordResult("ok", (record.value,), "Found.")
    if ours:
        return RecordResult("mismatch", tuple(ours), "A verification record is there with "
                            "another token: replace its value with the one above.")
    return RecordResult("missing", (), "No verification record found yet.")


def dkim_tags(value: str) -> dict[str, str]:
    """`tag=value` pairs of a DKIM record; whitespace around and inside values (RFC 6376 allows
    folding) and a missing trailing `;` do not matter."""
    tags = {}
    for part in value.split(";"):
        name, sep, tag_value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = re.sub(r"\s+", "", tag_value)
    return tags


def _check_dkim(record: ExpectedRecord, lookup: DnsLookup) -> RecordResult:
    values = lookup.txt(record.name)
    keys = [v for v in values if "p" in dkim_tags(v) or v.lower().startswith("v=dkim1")]
    if not keys:
        if values:
            return RecordResult("mismatch", tuple(values), "The TXT record at this name is "
                                "not a DKIM key: replace it with the value above.")
        return RecordResult("missing", (), "No DKIM record found yet.")
    if len(keys) > 1:
        return RecordResult("mismatch", tuple(keys), f"Found {len(keys)} DKIM records at this "
                            "name; there should be exactly one. Remove the others.")
    wanted, found = dkim_tags(record.value), dkim_tags(keys[0])
    if found.get("v", "DKIM1").upper() != "DKIM1" or found.get("k", "rsa").lower() != "rsa":
        return RecordResult("mismatch", (keys[0],), "This record is not an RSA DKIM key: "
                            "replace it with the value above.")
    if found.get("p") != wanted["p"]:
        return RecordResult("mismatch", (keys[0],), "The key published here is a different "
                            "one: replace the value with the one above.")
    return RecordResult("ok", (keys[0],), "Found.")


@dataclass
class _SpfWalk:
    """Follows include: and redirect= as a receiver would, counting DNS lookups."""

    lookup: DnsLookup
    target: str
    lookups: int = 0
    failed: str | None = None
    seen: set = field(default_factory=set)

    def reaches(self, record: str) -> bool:
        terms = record.split()[1:]
        redirect = None
        for term in terms:
            term = term.lower()
            mechanism = term[1:] if term[:1] in "+-~?" else term
            if mechanism.startswith("include:"):
                self._count()
                included = mechanism[len("include:"):].rstrip(".")
                if included == self.target or self._follow(included):
                    return True
            elif mechanism.startswith("redirect="):
                redirect = mechanism[len("redirect="):].rstrip(".")
            elif mechanism.split(":")[0].split("/")[0] in _SPF_LOOKUP_TERMS:
                self._count()
        # A redirect applies only when no mechanism matched, so it is followed last.
        if redirect and not any(t.lower().lstrip("+-~?") == "all" for t in terms):
            self._count()
            return redirect == self.target or self._follow(redirect)
        return False

    def _count(self) -> None:
        self.lookups += 1
        if self.lookups > SPF_LOOKUP_LIMIT:
            raise _TooManyLookups()

    def _follow(self, name: str) -> bool:
        if name in self.seen:
            return False
        self.seen.add(name)
        try:
            records = [v for v in self.lookup.txt(name) if _SPF.match(v)]
        except LookupFailed as exc:
            self.failed = str(exc)
            return False
        return len(records) == 1 and self.reaches(records[0])


class _TooManyLookups(Exception):
    pass


def _check_spf(record: ExpectedRecord, lookup: DnsLookup) -> RecordResult:
    include = record.value.split()[1]  # "include:<POSTROOM_SPF_INCLUDE>"
    records = [v for v in lookup.txt(record.name) if _SPF.match(v)]
    if not records:
        return RecordResult("missing", (), "No SPF record found yet.")
    if len(records) > 1:
        return RecordResult("mismatch", tuple(records), "A domain may have only one SPF "
                            f"record (RFC 7208): merge them into one that contains {include}.")
    walk = _SpfWalk(lookup, include.split(":", 1)[1])
    try:
        if walk.reaches(records[0]):
            return RecordResult("ok", (records[0],), "Found.")
    except _TooManyLookups:
        return RecordResult("mismatch", (records[0],), f"Receivers stop after "
                            f"{SPF_LOOKUP_LIMIT} DNS lookups (RFC 7208) before reaching "
                            f"{include}: put {include} earlier or flatten other includes.")
    if walk.failed:
        raise LookupFailed(walk.failed)
    return RecordResult("mismatch", (records[0],), f"Your SPF record does not contain "
                        f"{include}: add it to this record rather than creating a second one.")


def _check_return_path(record: ExpectedRecord, lookup: DnsLookup) -> RecordResult:
    targets = lookup.cname(record.name)
    if not targets:
        return RecordResult("missing", (), "Not set up. Recommended, not required.")
    if targets[0] == record.value.lower().rstrip("."):
        return RecordResult("ok", (targets[0],), "Found.")
    return RecordResult("mismatch", (targets[0],), "This name points somewhere else: "
                        "change the CNAME target to the value above.")


def _check_dmarc(record: ExpectedRecord, lookup: DnsLookup) -> RecordResult:
    policies = [v for v in lookup.txt(record.name)
                if re.sub(r"\s+", "", v).lower().startswith("v=dmarc1")]
    if not policies:
        return RecordResult("missing", (), "No DMARC record. Recommended, not required.")
    if len(policies) > 1:
        return RecordResult("mismatch", tuple(policies), "There should be exactly one DMARC "
                            "record; receivers ignore them all when there are several.")
    return RecordResult("ok", (policies[0],), "Found. Keep your own policy.")


_CHECKERS = {"ownership": _check_ownership, "dkim": _check_dkim, "spf": _check_spf,
             "return_path": _check_return_path, "dmarc": _check_dmarc}
