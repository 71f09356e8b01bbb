"""Subject access export: everything held about a family, or all a family member may see.

Who: team managers and the head of service with access get everything held: every document of
the family's partition (members, visits, agendas, notes and their kept versions, plans,
comments, media records with transcripts, notification claims, whatever type is stored there,
deleted ones included) as stored, and every audit event of the family. A family member gets
what they may see ("download all my information"): records shared with the family and not
deleted, as the API shows them to that member (no other member's contact details, no
transcript staff have not approved, no comment on a record they cannot see), the notifications
sent to them, the safety alerts they raised (without the texts, which went to staff), their
family's words entries, and the audit events of their own actions, except refused attempts on
records they cannot see now: a refused read of a deleted record leaves no event, and sync answers an
un-shared record and a deleted one alike, so the export must not tell them apart either. A
social worker with access is refused (403); anyone without access gets 404 (a partner agency
too). Each request is audited (``export``).

Partner agencies. Managers get the family's grants as held (type ``partnerGrant``: with whom,
what, why, on which basis, until when, who granted, changed and revoked them) and every partner's
events in the audit trail. A family member gets every grant, active or ended, as the family is
told of it (the organisation and agency, the kinds of record, the lawful basis and the dates; not
the person, nor the free-text reason, which staff disclose after review) and, in
``partnerReads``, what partners did with what the family can see: when, what, which record, by
which organisation and agency.

Shape: one JSON document ``{manifest, family, records, audit, partnerReads, next}``
(``partnerReads`` is empty for managers, whose ``audit`` holds every event). ``manifest`` says who
asked and when, the scope, counts per type in this part and in total so far, the audit chain's
sealed head and how many of the family's events were not sealed yet (staff; the head is an
anchor ``python -m local.audit verify --head`` can check later) and when the media links
expire. Media records carry short-lived read links for their sanitised files
(``links``); the uploaded original is held but never served.

Memory: the Functions Python worker hands the host a response body whole, so the body cannot
be streamed. The document is instead written a Cosmos DB page (100 documents) at a time into a
part of at most ``PART_BYTES`` (8 MiB) plus one page, and a family whose export is larger is
answered in parts: ``next`` is a sealed token for the following part (``?next=``), null on the
last, where ``manifest.complete`` is true and ``manifest.totals`` counts the whole export. 8 MiB
keeps a part well inside the instance's memory even with many exports at once (the part, its
encoded copy and the worker's copy: about 30 MiB per request) and quick to produce, while most
families fit in one part.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.access import Caller, FamilyAccess, can_see
from shared.audit_chain import Head
from shared.grants import GRANT_TYPE
from shared.ports.records import QueryPage
from shared.ports.runtime import Runtime
from shared.records.family_access import access_family
from shared.records.kinds import COMMENT, KINDS, MEDIA
from shared.records.store import SYSTEM_FIELDS, now_iso, version_of
from shared.reminders.models import present_notification
from shared.safety.alerts import exported_alert
from shared.safety.models import ALERT_TYPE
from shared.services.audit_trail import require_manager
from shared.services.families import present_family
from shared.services.partners import family_grants, grant_for_family

FORMAT = "familystory-export/1"
PART_BYTES = 8 * 1024 * 1024
PAGE_SIZE = 100
SECTIONS = ("records", "audit", "partnerReads")
HIDDEN = frozenset({*SYSTEM_FIELDS, "requestHash"})


@dataclass
class Part:
    """One part of the export being written: JSON text per section, and counts."""

    sections: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    counts: Counter[str] = field(default_factory=Counter)
    size: int = 0
    links_expire_at: str | None = None

    def add(self, section: str, item: Mapping[str, Any], counted: str) -> None:
        text = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        self.sections[section].append(text)
        self.counts[counted] += 1
        self.size += len(text) + 1


class Exporter:
    def __init__(
        self,
        runtime: Runtime,
        caller: Caller,
        part_bytes: int = PART_BYTES,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.runtime = runtime
        self.caller = caller
        self.part_bytes = part_bytes
        self.page_size = page_size
        self._known_partners: dict[tuple[str, str], dict[str, str]] | None = None

    def export(self, family_id: str, token: str | None) -> bytes:
        access = access_family(self.runtime, self.caller, family_id, "export", fresh=True)
        if access.is_staff:
            require_manager(access, "export everything held about a family")
        scope = f"export|{access.family_id}|{self.caller.principal.key}"
        state = self.runtime.signer.open(scope, token) if token else self._start()
        self.runtime.audit.record(
            self.caller,
            "export",
            access.family_id,
            "family",
            access.family_id,
            detail=f"part {state['part']}",
        )
        if state.get("head") is None and access.is_staff:
            store = self.runtime.audit_store
            last = store.last_seal(access.family_id)
            head = Head.of(last)
            state["head"] = head.as_dict() if head else None
            state["pending"] = store.count_events_after(
                access.family_id, int(last["through"]) if last else 0
            )
        part = Part()
        if state["part"] == 1:
            part.counts["family"] += 1
        section, continuation = str(state["section"]), state.get("c")
        while section in SECTIONS and part.size < self.part_bytes:
            continuation = self._fill(access, part, section, continuation)
            if continuation is None:
                index = SECTIONS.index(section) + 1
                section = SECTIONS[index] if index < len(SECTIONS) else "done"
        totals = Counter(state["totals"]) + part.counts
        complete = section == "done"
        following = None
        if not complete:
            following = self.runtime.signer.seal(
                scope,
                {
                    **state,
                    "section": section,
                    "c": continuation,
                    "part": state["part"] + 1,
                    "totals": dict(totals),
                },
            )
        manifest = {
            "format": FORMAT,
            "familyId": access.family_id,
            "scope": "everything-held" if access.is_staff else "visible-to-family-member",
            "generatedAt": state["at"],
            "requestedBy": {**self.caller.actor, "roles": sorted(self.caller.principal.roles)},
            "part": state["part"],
            "complete": complete,
            "counts": dict(sorted(part.counts.items())),
            "totals": dict(sorted(totals.items())),
            "auditHead": state.get("head"),
            "auditPending": state.get("pending"),
            "linksExpireAt": part.links_expire_at,
        }
        family = self._family(access)
        return "".join(
            [
                '{"manifest":',
                _dumps(manifest),
                ',"family":',
                _dumps(family),
                ',"records":[',
                ",".join(part.sections["records"]),
                '],"audit":[',
                ",".join(part.sections["audit"]),
                '],"partnerReads":[',
                ",".join(part.sections["partnerReads"]),
                '],"next":',
                _dumps(following),
                "}",
            ]
        ).encode()

    def _start(self) -> dict[str, Any]:
        return {
            "section": SECTIONS[0],
            "c": None,
            "part": 1,
            "at": now_iso(self.runtime.clock()),
            "totals": {},
            "head": None,
        }

    def _family(self, access: FamilyAccess) -> dict[str, Any]:
        if access.is_staff:
            return stored(access.family)
        return present_family(dict(access.family), staff=False)

    # --- one page at a time -------------------------------------------------------------------

    def _fill(
        self,
        access: FamilyAccess,
        part: Part,
        section: str,
        continuation: str | None,
    ) -> str | None:
        """Add pages of ``section`` until the part is full; the continuation left, if any."""
        for page in self._pages(access, section, continuation):
            if section == "records":
                self._add_records(access, part, page.items)
            elif section == "audit":
                self._add_audit(access, part, page.items)
            else:
                self._add_partner_reads(access, part, page.items)
            continuation = page.continuation
            if continuation is None or part.size >= self.part_bytes:
                return continuation
        return None

    def _pages(
        self, access: FamilyAccess, section: str, continuation: str | None
    ) -> Iterator[QueryPage]:
        """Everything held (staff), or what the family member may see, and their own events."""
        family_id = access.family_id
        if section == "partnerReads":
            return self._partner_pages(access, continuation)
        if section == "audit":
            actor = None if access.is_staff else (self.caller.principal.tenant_id, self.caller.id)
            return self.runtime.audit_store.export_pages(
                family_id, actor, self.page_size, continuation
            )
        member = None if access.is_staff else access.member_id or ""
        return self.runtime.records.export_pages(family_id, member, self.page_size, continuation)

    def _add_records(
        self,
        access: FamilyAccess,
        part: Part,
        documents: list[dict[str, Any]],
    ) -> None:
        if access.is_staff:
            for document in documents:
                item = stored(document)
                if document.get("type") == MEDIA.record_type:
                    item = self._with_links(document, item, part)
                part.add("records", item, str(document.get("type")))
            return
        targets = self._visible_targets(access, documents)
        for document in documents:
            shown = self._family_view(access, document, targets)
            if shown is not None:
                part.add("records", shown, str(document["type"]))
                if shown.get("downloadUrl") and part.links_expire_at is None:
                    part.links_expire_at = self._links_expire_at()

    def _family_view(
        self, access: FamilyAccess, document: dict[str, Any], targets: set[str]
    ) -> dict[str, Any] | None:
        from shared.services.case import present_for

        record_type = document.get("type")
        if record_type == "notification":
            return present_notification(document)
        if record_type == ALERT_TYPE:
            return exported_alert(document, access.member_id)
        if record_type == GRANT_TYPE:
            return grant_for_family(document, self.runtime.clock())
        kind = KINDS.get(str(record_type))
        if kind is None or not can_see(access, document):
            return None
        if kind is COMMENT and document.get("targetId") not in targets:
            return None
        return present_for(self.runtime, access, kind, document)

    def _add_audit(self, access: FamilyAccess, part: Part, events: list[dict[str, Any]]) -> None:
        out_of_sight: set[str] = set()
        if not access.is_staff:
            tried = {str(e["recordId"]) for e in events if refused(e) and e.get("recordId")}
            out_of_sight = tried - self._visible_ids(access, tried)
        for event in events:
            if refused(event) and event.get("recordId") in out_of_sight:
                continue
            part.add("audit", stored(event), "audit")

    # --- what partners did ----------------------------------------------------------------------

    def _partners(self, access: FamilyAccess) -> dict[tuple[str, str], dict[str, str]]:
        """Each partner ever granted the family (``tid``, ``oid``), with the organisation and
        agency of their newest grant: how the family is told who they are."""
        if self._known_partners is None:
            known: dict[tuple[str, str], dict[str, str]] = {}
            for grant in family_grants(self.runtime, access.family_id):  # newest first
                key = (str(grant.get("partnerTid")), str(grant.get("partnerOid")))
                known.setdefault(
                    key, {"organisation": grant["organisation"], "agency": grant["agency"]}
                )
            self._known_partners = known
        return self._known_partners

    def _partner_pages(self, access: FamilyAccess, continuation: str | None) -> Iterator[QueryPage]:
        """A family member's export: each partner's events, a partner after another. The
        continuation names the partner (by position) and the page within their events."""
        if access.is_staff:
            return
        partners = sorted(self._partners(access))
        start: dict[str, Any] = json.loads(continuation) if continuation else {"i": 0, "c": None}
        first = int(start["i"])
        for index in range(first, len(partners)):
            inner = start["c"] if index == first else None
            for page in self.runtime.audit_store.export_pages(
                access.family_id, partners[index], self.page_size, inner
            ):
                if page.continuation is not None:
                    following = _dumps({"i": index, "c": page.continuation})
                elif index + 1 < len(partners):
                    following = _dumps({"i": index + 1, "c": None})
                else:
                    following = None
                yield QueryPage(page.items, following)

    def _add_partner_reads(
        self, access: FamilyAccess, part: Part, events: list[dict[str, Any]]
    ) -> None:
        """What partners did with what the family can see: every successful action on the
        family, on lists and on records the family may see, by organisation and agency."""
        partners = self._partners(access)
        named = {str(e["recordId"]) for e in events if e.get("recordId")}
        seen = self._visible_ids(access, named - {access.family_id}) | {access.family_id}
        for event in events:
            record_id = event.get("recordId")
            if event.get("outcome") != "ok" or (record_id and record_id not in seen):
                continue
            actor = event.get("actor") or {}
            who = partners.get((str(actor.get("tid")), str(actor.get("oid"))), {})
            shown = {
                "at": event["at"],
                "action": event["action"],
                "recordType": event["recordType"],
                "recordId": record_id,
                **who,
            }
            part.add("partnerReads", shown, "partnerRead")

    def _visible_targets(self, access: FamilyAccess, documents: list[dict[str, Any]]) -> set[str]:
        """Of the records this page's comments are on, those the family member can see."""
        targets = {str(d["targetId"]) for d in documents if d.get("type") == "comment"}
        return self._visible_ids(access, targets)

    def _visible_ids(self, access: FamilyAccess, ids: set[str]) -> set[str]:
        """Of these records of the family, those the family member can see (one query)."""
        return self.runtime.records.visible_to_member(
            access.family_id, sorted(ids), access.member_id or ""
        )

    def _with_links(
        self, document: Mapping[str, Any], item: dict[str, Any], part: Part
    ) -> dict[str, Any]:
        from shared.services.media import links

        if document.get("status") != "ready" or not document.get("derivatives"):
            return item
        if part.links_expire_at is None:
            part.links_expire_at = self._links_expire_at()
        return {**item, "links": links(self.runtime, document)}

    def _links_expire_at(self) -> str:
        from datetime import timedelta

        from shared.services.media import MAX_DOWNLOAD_MINUTES

        minutes = min(self.runtime.settings.media_download_url_minutes, MAX_DOWNLOAD_MINUTES)
        return now_iso(self.runtime.clock() + timedelta(minutes=minutes))


def refused(event: Mapping[str, Any]) -> bool:
    return event.get("outcome") == "denied"


def stored(document: Mapping[str, Any]) -> dict[str, Any]:
    """A document as held, without the database's own fields, with its version."""
    item = {k: v for k, v in document.items() if k not in HIDDEN}
    if document.get("_etag"):
        item["version"] = version_of(document)
    return item


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
